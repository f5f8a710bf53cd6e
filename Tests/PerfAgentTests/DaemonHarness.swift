import Foundation
import Glibc
import PerfAgent
import PerfCore
import PerfWire
import Testing

/// A root for a real `perf-agent` daemon (the built binary) and the controller's
/// side of its sessions. The root's path is short: a Unix socket path holds 107 bytes.
struct DaemonHarness {
    let root: String
    /// The daemon's stdout and stderr when the harness started it.
    let outputPath: String

    private init() {
        root = "/tmp/pa-" + UUID().uuidString.prefix(8).lowercased()
        outputPath = root + ".out"
    }

    /// Runs `body` with a fresh root, then stops any daemon left under it and removes its files.
    static func with(_ body: (DaemonHarness) async throws -> Void) async throws {
        let harness = DaemonHarness()
        do {
            try await body(harness)
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    /// `$PERF_AGENT`, else the perf-agent built beside this test bundle, else in `.build/debug`.
    static func executable() throws -> String {
        if let path = ProcessInfo.processInfo.environment["PERF_AGENT"] { return path }
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent("perf-agent").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/perf-agent").path,
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("perf-agent is not built (looked in \(candidates)); run `swift build` before `swift test`, or set PERF_AGENT")
            throw CancellationError()
        }
        return found
    }

    /// Starts `perf-agent serve --root ROOT` and waits until its socket answers.
    @discardableResult
    func serve(_ extraArguments: [String] = []) async throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.executable())
        // A daemon whose test process died before tearDown exits on its own, idle.
        let idleExit = extraArguments.contains("--idle-exit") ? [] : ["--idle-exit", "120"]
        process.arguments = ["serve", "--root", root] + idleExit + extraArguments
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try output.close()
        // agent.pid is written once the socket listens.
        try await eventually("the daemon listens on \(hostDirectory)/agent.sock") {
            if daemonPID != nil { return true }
            guard process.isRunning else { throw ChannelError("perf-agent serve exited: \(self.output)") }
            return false
        }
        return process
    }

    /// A connection to the daemon's socket, as `dial` makes it.
    func connect() throws -> ControllerChannel {
        do {
            return try ControllerChannel(socket: AgentDialer(root: AgentRoot(root), startingWithIdleExit: nil).connect())
        } catch {
            throw ChannelError("cannot connect to \(hostDirectory)/agent.sock: \(error)")
        }
    }

    /// A connection that has said hello.
    func session() async throws -> ControllerSession {
        let session = ControllerSession(channel: try connect())
        try session.channel.send(.hello(ControllerHello(controllerVersion: "test", sentAtNanoseconds: 0)))
        guard case .hello = try await session.next() else { throw ChannelError("the daemon did not answer hello") }
        return session
    }

    /// Runs `perf-agent ARGUMENTS` to its end with `input` on stdin.
    func agent(_ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:]) throws -> AgentRun {
        try AgentRun.run(try Self.executable(), arguments, input: input, environment: environment)
    }

    /// This host's daemon files under the root.
    var hostDirectory: String { AgentRoot(root).hostDirectory }

    /// The daemon's pid from `agent.pid`.
    var daemonPID: pid_t? { AgentRoot(root).recordedPID() }

    /// The daemon's output when the harness started it.
    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Stops the daemon (SIGTERM, SIGKILL if it is still there after 20 s) and removes every file.
    private func tearDown() async {
        if let pid = daemonPID, processExists(pid) {
            kill(pid, SIGTERM)
            if (try? await eventually("daemon \(pid) exits", timeout: 20) { !processExists(pid) }) == nil {
                kill(pid, SIGKILL)
            }
        }
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: outputPath)
    }
}

/// The controller's end of one daemon session.
struct ControllerSession {
    let channel: ControllerChannel

    /// The daemon's next message; fails after `timeout` seconds or at the end of the stream.
    func next(timeout: Double = 30) async throws -> AgentMessage {
        let channel = self.channel
        return try await withThrowingTaskGroup(of: AgentMessage?.self) { group in
            group.addTask {
                for try await message in channel.incoming { return message }
                throw ChannelError("the daemon closed the session")
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            guard let message = try await group.next() ?? nil else {
                throw ChannelError("no message from the daemon within \(timeout) s")
            }
            return message
        }
    }

    /// Sends `request` and returns the first answer that is not a round's stream
    /// (which it drops: ask only while no round can end).
    func ask(_ request: ControllerMessage) async throws -> AgentMessage {
        try channel.send(request)
        while true {
            switch try await next() {
            case .rankStarted, .rankEnded, .logChunk, .roundFinished: continue
            case let answer: return answer
            }
        }
    }

    func status() async throws -> AgentStatus {
        let answer = try await ask(.status)
        guard case .status(let status) = answer else { throw ChannelError("expected status, got \(answer)") }
        return status
    }

    /// Starts a round of shell-command ranks.
    func start(_ key: RoundKey, _ commands: [String], timeout: Double = 60, grace: Double = 1) throws {
        let ranks = commands.enumerated().map { rank, command in
            RankLaunch(rank: rank, localRank: rank, argv: ["sh", "-c", command], workingDirectory: "/tmp", environment: [:])
        }
        try channel.send(.startRound(StartRound(
            key: key, nodeRank: 0, runtime: .process, ranks: ranks, timeoutSeconds: timeout, killGraceSeconds: grace)))
    }

    /// Waits for `count` ranks of a round to start; returns their pids.
    func ranksStarted(_ count: Int) async throws -> [pid_t] {
        var pids: [pid_t] = []
        while pids.count < count {
            switch try await next() {
            case .rankStarted(let started): pids.append(started.pid)
            case .failure(let failure): throw ChannelError("the round failed: \(failure.message)")
            default: continue
            }
        }
        return pids
    }

    /// Waits for the round's end, skipping everything before it; a failure ends the wait too.
    func finished(timeout: Double = 60) async throws -> Result<RoundFinished, AgentFailure> {
        while true {
            switch try await next(timeout: timeout) {
            case .roundFinished(let finished): return .success(finished)
            case .failure(let failure): return .failure(failure)
            default: continue
            }
        }
    }

    /// Ends the session from the controller's side.
    func disconnect() { channel.closeOutput() }
}

/// Exit status and output of a `perf-agent` run.
struct AgentRun {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String

    /// The framed messages on stdout.
    func messages() throws -> [AgentMessage] {
        var decoder = FrameDecoder()
        decoder.append(stdout)
        var messages: [AgentMessage] = []
        while let frame = try decoder.nextFrame() {
            messages.append(try JSONDecoder().decode(AgentMessage.self, from: Data(frame)))
        }
        return messages
    }

    static func run(_ executable: String, _ arguments: [String], input: [UInt8], environment: [String: String]) throws -> AgentRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: input)
        try stdin.fileHandleForWriting.close()
        let collected = ErrorOutput()
        let reader = Thread {
            collected.data = stderr.fileHandleForReading.readDataToEndOfFile()
            collected.done.signal()
        }
        reader.start()
        // Ends only when every holder of the pipe is gone: a daemon that kept it would hang here.
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        collected.done.wait()
        process.waitUntilExit()
        return AgentRun(
            status: process.terminationStatus, stdout: Array(out), stderr: String(decoding: collected.data, as: UTF8.self))
    }
}

/// Stderr read on its own thread, so a chatty child never blocks on a full pipe.
private final class ErrorOutput: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}

/// Frames of controller messages, as a controller writes them to `dial`'s stdin.
func frames(_ messages: [ControllerMessage]) throws -> [UInt8] {
    try messages.flatMap { Framing.frame(Array(try JSONEncoder().encode($0))) }
}

/// Polls `condition` every 50 ms until it holds; throws after `timeout` seconds.
func eventually(_ what: String, timeout: Double = 15, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw ChannelError("timed out after \(timeout) s waiting until \(what)")
}

/// Runs `body` for 0..<count at the same time, each on a thread of its own.
func inParallel<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let results = ParallelResults<T>(count)
    let done = DispatchSemaphore(value: 0)
    for index in 0..<count {
        Thread {
            results.store(index, Result { try body(index) })
            done.signal()
        }.start()
    }
    for _ in 0..<count { done.wait() }
    return try results.values()
}

private final class ParallelResults<T: Sendable>: @unchecked Sendable {
    private var results: [Result<T, any Error>?]
    private let lock = NSLock()

    init(_ count: Int) { results = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<T, any Error>) { lock.withLock { results[index] = result } }

    func values() throws -> [T] { try lock.withLock { try results.map { try $0!.get() } } }
}

/// The permission bits of `path`, e.g. 0o700.
func mode(of path: String) -> mode_t? {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
}
