import Foundation
import PerfCore
import PerfWire
import Subprocess
import SystemPackage

/// Reaches a local node: starts `perf-agent serve --stdio` as a child process
/// and speaks the agent protocol over its stdin/stdout — the same protocol
/// an SSH exec channel carries to a remote node.
struct LocalAgentTransport {
    let agentExecutable: String
    let agentRoot: String
    /// Where the agent's own stderr (its log) goes.
    let stderrPath: String

    /// Starts the agent; the returned task ends when the agent process exits.
    func open() throws(UserError) -> (channel: ControllerChannel, process: Task<TerminationStatus?, Never>) {
        do {
            let toAgent = try ClosingPipe()
            let fromAgent = try ClosingPipe()
            let stderr = try FileDescriptor.open(
                FilePath(stderrPath), .writeOnly, options: [.create, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            var options = PlatformOptions()
            // Its own process group: a Ctrl-C meant for perfctl does not kill the agent,
            // which then sees end of stream and stops its ranks' round cleanly.
            options.processGroupID = 0
            let executable = agentExecutable
            let arguments = ["serve", "--stdio", "--root", agentRoot]
            let process = Task { () -> TerminationStatus? in
                let result = try? await Subprocess.run(
                    .path(FilePath(executable)), arguments: Arguments(arguments), platformOptions: options,
                    input: .fileDescriptor(toAgent.readEnd, closeAfterSpawningProcess: true),
                    output: .fileDescriptor(fromAgent.writeEnd, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(stderr, closeAfterSpawningProcess: true))
                return result?.terminationStatus
            }
            return (ControllerChannel(input: fromAgent.readEnd, output: toAgent.writeEnd), process)
        } catch {
            throw UserError(
                "cannot start \(agentExecutable): \(error)",
                fix: "build it with `swift build` (perf-agent sits beside perfctl), or set PERF_AGENT to its path")
        }
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
