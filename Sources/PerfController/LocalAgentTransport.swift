import Foundation
import PerfCore
import PerfWire
import Subprocess
import SystemPackage

/// Reaches a local host's agent: runs `perf-agent dial` as a child process, which
/// bridges its stdin/stdout to the agent daemon's socket (starting the daemon if
/// none runs), the same command an SSH exec channel runs on a remote host.
struct LocalAgentTransport {
    let endpoint: AgentEndpoint
    /// Start the daemon when none runs.
    let startDaemon: Bool
    /// Where dial's own stderr goes.
    let stderrPath: String

    func open() throws(UserError) -> LocalAgentLink {
        let executable = endpoint.localAgent
        do {
            let toAgent = try ClosingPipe()
            let fromAgent = try ClosingPipe()
            let stderr = try FileDescriptor.open(
                FilePath(stderrPath), .writeOnly, options: [.create, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            var options = PlatformOptions()
            // Its own process group: a Ctrl-C meant for perfctl does not reach dial,
            // so perfctl can still tell the agent to stop the round's ranks.
            options.processGroupID = 0
            let arguments = ["dial", "--root", endpoint.root] + (startDaemon ? [] : ["--no-start"])
            let process = Task { () -> TerminationStatus? in
                let result = try? await Subprocess.run(
                    .path(FilePath(executable)), arguments: Arguments(arguments), platformOptions: options,
                    input: .fileDescriptor(toAgent.readEnd, closeAfterSpawningProcess: true),
                    output: .fileDescriptor(fromAgent.writeEnd, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(stderr, closeAfterSpawningProcess: true))
                return result?.terminationStatus
            }
            let channel = ControllerChannel(input: fromAgent.readEnd, output: toAgent.writeEnd)
            return LocalAgentLink(channel: channel, process: process, location: endpoint.location)
        } catch {
            throw UserError(
                "cannot start \(executable): \(error)", at: endpoint.location,
                fix: "build it with `swift build` (perf-agent sits beside perfctl), or set PERF_AGENT to its path")
        }
    }
}

/// An agent session through a local `perf-agent dial` child; the stream ends with
/// the child's verdict (no daemon, or dial failed).
final class LocalAgentLink: AgentLink {
    let incoming: AsyncThrowingStream<AgentMessage, any Error>
    private let channel: ControllerChannel
    private let relay: Task<Void, Never>

    init(channel: ControllerChannel, process: Task<TerminationStatus?, Never>, location: String) {
        self.channel = channel
        let (stream, continuation) = AsyncThrowingStream<AgentMessage, any Error>.makeStream()
        incoming = stream
        relay = Task {
            do {
                for try await message in channel.incoming { continuation.yield(message) }
            } catch {
                continuation.finish(throwing: error)
                return
            }
            switch await process.value {
            case .exited(0): continuation.finish()
            case .exited(DialExit.noDaemon): continuation.finish(throwing: AgentNotRunning())
            case let status:
                continuation.finish(throwing: UserError(
                    "perf-agent dial ended (\(status.map { "\($0)" } ?? "could not start"))", at: location,
                    fix: "see agent.log under the host's agent root, and the run's agent-<host>.log"))
            }
        }
    }

    func send(_ message: ControllerMessage) async throws { try channel.send(message) }

    func close() async {
        channel.closeOutput()
        await relay.value
    }
}

/// Finds the `perf-agent` executable that ships with this `perfctl`.
public enum AgentExecutable {
    /// `$PERF_AGENT` when set, else `perf-agent` beside the running executable.
    public static func locate() throws(UserError) -> String {
        if let override = ProcessInfo.processInfo.environment["PERF_AGENT"], !override.isEmpty {
            return override
        }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let candidate = FilePaths.join(FilePaths.directory(of: me), "perf-agent")
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw UserError(
                "perf-agent not found beside perfctl (looked for \(candidate))",
                fix: "build both with `swift build`, or set PERF_AGENT to the perf-agent executable")
        }
        return candidate
    }
}
