import ArgumentParser
import Foundation
import Glibc

/// `perf-bench logs-latency`: how long a line a rank writes takes to be printed by
/// `perfctl logs --follow` while the run goes on (rank → agent's tailer → protocol →
/// controller's results tree → follow's poll → stdout).
struct LogsLatencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs-latency",
        abstract: "Measures the delay from a rank writing a line to `perfctl logs --follow` printing it.",
        discussion: """
            Writes a throwaway cluster tree (localhost, vendor cpu, an agent root of its own) whose \
            case runs RANKS python3 ranks that each write `t=<CLOCK_REALTIME ns> …` every INTERVAL \
            ms for DURATION s, starts `perfctl run` on it, then `perfctl logs latest --follow` beside \
            it, and stamps every line the moment it is read from follow's stdout. Latency = read \
            time − the line's t. Prints the line count (every line must arrive, once), p50, p90, \
            p99 and max, and PASS/FAIL against p99 ≤ 100 ms (exit 1 on FAIL). perfctl and \
            perf-agent are taken from beside perf-bench.

            Example:
              swift build -c release && .build/release/perf-bench logs-latency
            """)

    @Option(help: "Seconds each rank writes lines.")
    var duration = 10.0

    @Option(name: .customLong("interval-ms"), help: "Milliseconds between a rank's lines.")
    var intervalMs = 10.0

    @Option(help: "Ranks on the node.")
    var ranks = 2

    @Flag(help: "Keep the temporary tree (its path is printed).")
    var keep = false

    func validate() throws {
        guard duration > 0, intervalMs > 0, ranks > 0 else {
            throw ValidationError("--duration, --interval-ms and --ranks must be positive")
        }
    }

    func run() async throws {
        let perfctl = URL(fileURLWithPath: try Self.selfExecutable()).deletingLastPathComponent()
            .appendingPathComponent("perfctl").path
        guard FileManager.default.isExecutableFile(atPath: perfctl) else {
            throw BenchmarkError("no perfctl beside perf-bench (\(perfctl)): build every product first")
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("perf-bench-logs-\(UUID().uuidString)").path
        try writeTree(root)
        defer {
            if keep { print("tree kept: \(root)") } else { stopAgent(root); try? FileManager.default.removeItem(atPath: root) }
        }

        let run = Process()
        run.executableURL = URL(fileURLWithPath: perfctl)
        run.arguments = ["run", "cases/lat"]
        run.currentDirectoryURL = URL(fileURLWithPath: root)
        run.environment = ProcessInfo.processInfo.environment.merging(["PERF_AGENT_IDLE_EXIT": "10"]) { $1 }
        run.standardOutput = FileHandle.nullDevice
        run.standardError = FileHandle.nullDevice
        try run.run()
        let deadline = Date().addingTimeInterval(30)
        while runJSON(root) == nil {
            guard Date() < deadline, run.isRunning else { throw BenchmarkError("perfctl run wrote no run.json (tree: \(root))") }
            try await Task.sleep(for: .milliseconds(10))
        }

        let follow = Process()
        follow.executableURL = URL(fileURLWithPath: perfctl)
        follow.arguments = ["logs", "latest", "--follow"]
        follow.currentDirectoryURL = URL(fileURLWithPath: root)
        let pipe = Pipe()
        follow.standardOutput = pipe
        try follow.run()
        let latencies = Self.readStamped(fd: pipe.fileHandleForReading.fileDescriptor)
        follow.waitUntilExit()
        run.waitUntilExit()

        let expected = Int(duration * 1000 / intervalMs)
        let sorted = latencies.values.sorted()
        guard !sorted.isEmpty else { throw BenchmarkError("perfctl logs --follow printed no timestamped line") }
        func percentile(_ p: Double) -> Double {
            sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)]
        }
        let ms = { (value: Double) in String(format: "%.1f ms", value * 1000) }
        print("perfctl logs --follow, \(ranks) rank(s) writing a line every \(intervalMs) ms for \(duration) s "
            + "(\(ProcessInfo.processInfo.activeProcessorCount) cores, load \(Self.loadAverage()))")
        print("lines: \(sorted.count) printed (at most \(expected * ranks) written; \(latencies.missing) missing, "
            + "\(latencies.duplicates) printed twice), "
            + "follow exit \(follow.terminationStatus), run exit \(run.terminationStatus)")
        print("latency: p50 \(ms(percentile(50))), p90 \(ms(percentile(90))), p99 \(ms(percentile(99))), max \(ms(sorted.last!))")
        let passed = percentile(99) <= 0.1 && latencies.duplicates == 0 && latencies.missing == 0 && follow.terminationStatus == 0
        print("\(passed ? "PASS" : "FAIL"): p99 ≤ 100 ms, every line once, follow exits 0")
        if !passed { throw ExitCode(1) }
    }

    private func writeTree(_ root: String) throws {
        func write(_ relative: String, _ text: String) throws {
            let path = root + "/" + relative
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        try write("cluster.yaml", "vendor: cpu\nagent_root: \(root)/agent\nhosts:\n  - address: localhost\n")
        try write("vendors/cpu/vendor.yaml", "runtime: process\npeak_flops:\n  fp32: 1.0e11\n")
        try write("cases/lat/case.yaml", """
            framework: shell
            entry: [python3, lines.py]
            nproc_per_node: \(ranks)
            rounds: 1
            round_timeout: \(Int(duration) + 60)
            dtype: fp32
            metrics:
              - name: lines
                higher_is_better: true
                primary: true
            """)
        try write("cases/lat/lines.py", """
            import os, sys, time
            rank, interval, end = os.environ["RANK"], \(intervalMs / 1000), time.time() + \(duration)
            n = 0
            while time.time() < end:
                n += 1
                sys.stdout.write(f"t={time.time_ns()} rank={rank} n={n}\\n")
                sys.stdout.flush()
                time.sleep(interval)
            if rank == "0":
                print('[PerfLog] {"event": "FINISHED", "value": {"lines": %d}, "metadata": {"rank": 0}}' % n, flush=True)
            """)
    }

    private func runJSON(_ root: String) -> String? {
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: root + "/results")) ?? []
        return runs.first { FileManager.default.fileExists(atPath: "\(root)/results/\($0)/run.json") }
    }

    private func stopAgent(_ root: String) {
        let hosts = root + "/agent/hosts"
        for host in (try? FileManager.default.contentsOfDirectory(atPath: hosts)) ?? [] {
            if let text = try? String(contentsOfFile: "\(hosts)/\(host)/agent.pid", encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGTERM)
            }
        }
    }

    /// Reads `fd` to its end; each line with `t=<ns>` gets the wall-clock time of the read
    /// that completed it, and its latency in seconds. Lines are keyed by rank and number.
    static func readStamped(fd: Int32) -> (values: [Double], duplicates: Int, missing: Int) {
        var values: [Double] = []
        var last: [String: Int] = [:]
        var seen = Set<String>()
        var duplicates = 0
        var partial: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let nowNs = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
            partial.append(contentsOf: buffer[0..<count])
            while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: partial[..<newline], as: UTF8.self)
                partial.removeSubrange(...newline)
                guard let t = line.range(of: "t=") else { continue }
                let fields = line[t.upperBound...].split(separator: " ")
                guard let written = fields.first.flatMap({ Int64($0) }) else { continue }
                let key = fields.dropFirst().joined(separator: " ")
                if !seen.insert(key).inserted { duplicates += 1 }
                if fields.count == 3, let n = Int(fields[2].dropFirst(2)) { last[String(fields[1]), default: 0] = max(last[String(fields[1]), default: 0], n) }
                values.append(Double(nowNs - written) / 1e9)
            }
        }
        return (values, duplicates, last.values.reduce(0, +) - seen.count)
    }

    static func selfExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { throw BenchmarkError("cannot read /proc/self/exe") }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func loadAverage() -> String {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return "?" }
        return loads.map { String(format: "%.2f", $0) }.joined(separator: " ")
    }
}
