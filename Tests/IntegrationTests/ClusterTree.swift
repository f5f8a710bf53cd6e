import Foundation
import Testing

/// A throwaway cluster tree on disk — cluster.yaml, vendors/cpu, cases/demo with a
/// shell workload that emits PerfLog — and the real `perfctl` binary to run on it.
struct ClusterTree {
    let root: String

    /// The demo workload: emits INIT/STEP/FINISHED events and one broken PerfLog line;
    /// `$FAIL_RANK`/`$FAIL_ROUND` make one rank exit 3 in one round, `$HANG=1` makes ranks hang.
    static let workload = #"""
        #!/bin/sh
        echo "[PerfLog] {\"event\":\"INIT_START\",\"value\":{},\"metadata\":{\"rank\":$RANK}}"
        echo "launcher: [PerfLog] {\"event\":\"STEP_END\",\"value\":{\"step\":1,\"loss\":2.5},\"metadata\":{\"rank\":$RANK}}"
        echo "[PerfLog] {\"event\":\"STEP_END\",\"value\":{\"step\":2,\"loss\"" 
        echo "args: $*" >&2
        if [ "$HANG" = 1 ]; then sleep 600; fi
        if [ "$RANK" = "$FAIL_RANK" ] && [ "$PERF_ROUND" = "$FAIL_ROUND" ]; then echo "rank $RANK fails on purpose" >&2; exit 3; fi
        if [ "$RANK" = 0 ]; then
          echo "[PerfLog] {\"event\":\"FINISHED\",\"value\":{\"throughput\":$((100 + PERF_ROUND)),\"final_loss\":1.5,\"converged\":true},\"metadata\":{\"rank\":0}}"
        fi
        """#

    init(caseYAML: String? = nil, workload: String = Self.workload) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("perfctl-it-\(UUID().uuidString)").path
        try write("cluster.yaml", """
            vendor: cpu
            agent_root: \(root)/agent
            hosts:
              - address: localhost
            """)
        try write("vendors/cpu/vendor.yaml", """
            runtime: process
            peak_flops:
              fp32: 1.0e11
            env:
              OMP_NUM_THREADS: "1"
            """)
        try write("cases/demo/case.yaml", caseYAML ?? """
            framework: shell
            entry: [sh, work.sh]
            args: [--from-case, "two words"]
            nproc_per_node: 2
            rounds: 2
            round_timeout: 60
            dtype: fp32
            metrics:
              - name: throughput
                higher_is_better: true
                primary: true
                unit: items/s
              - name: final_loss
                higher_is_better: false
            """)
        try write("cases/demo/work.sh", workload)
    }

    func write(_ relative: String, _ text: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The single run directory under results/, relative to the root.
    func runDirectory() throws -> String {
        let runs = try FileManager.default.contentsOfDirectory(atPath: root + "/results").filter { !$0.hasPrefix(".") }
        try #require(runs.count == 1, "expected one run, found \(runs)")
        return "results/" + runs[0]
    }

    /// Stops the agent daemons under the tree's agent root (one per host name), then deletes the tree.
    func remove() {
        let hosts = root + "/agent/hosts"
        for host in (try? FileManager.default.contentsOfDirectory(atPath: hosts)) ?? [] {
            let pidFile = "\(hosts)/\(host)/agent.pid"
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGTERM)
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `perfctl` with `arguments` in the tree's root. Agent daemons it starts exit
    /// after 10 idle seconds, so tests leave none behind for long.
    func perfctl(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try CommandResult.run(
            Self.executable("perfctl"), arguments, in: root,
            environment: ["PERF_AGENT_IDLE_EXIT": "10"].merging(environment) { $1 })
    }

    /// Starts `perfctl ARGUMENTS` in the background (output discarded) and returns once
    /// `file`, a path inside the new run directory (`demo/round1/…/rank1.out.log`), exists.
    func startPerfctl(
        _ arguments: [String], environment: [String: String] = [:], waitingFor file: String
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.executable("perfctl"))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.environment = ProcessInfo.processInfo.environment
            .merging(["PERF_AGENT_IDLE_EXIT": "10"].merging(environment) { $1 }) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let run = try? runDirectory(), FileManager.default.fileExists(atPath: "\(root)/\(run)/\(file)") { return process }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.terminate()
        Issue.record("perfctl \(arguments.joined(separator: " ")) wrote no \(file) within 30 s")
        throw CancellationError()
    }

    /// A product built beside the test bundle (`swift build` builds them; the test script runs it first).
    static func executable(_ name: String) throws -> String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent(name).path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/\(name)").path,
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("\(name) is not built (looked in \(candidates)); run `swift build` before `swift test`")
            throw CancellationError()
        }
        return found
    }
}

/// Exit status and output of a finished command.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String

    static func run(_ executable: String, _ arguments: [String], in directory: String,
                    environment: [String: String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let collected = StderrBox()
        let reader = Thread { collected.data = err.fileHandleForReading.readDataToEndOfFile(); collected.done.signal() }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        collected.done.wait()
        let stderr = collected.data
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// Stderr read on its own thread, so a chatty child never blocks on a full pipe.
private final class StderrBox: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}
