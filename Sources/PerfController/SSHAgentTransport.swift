import Foundation
import PerfCore
import PerfSSH
import PerfWire
import SystemPackage

/// Reaches a remote node: logs in over SSH (libssh2, strict host-key check) and runs
/// `perf-agent serve --stdio` in an exec channel, which then carries the agent
/// protocol exactly as the local pipe does.
///
/// The agent executable is expected at the same path on the node as beside this
/// perfctl (a shared or identically laid out file system); deploying it is
/// `perfctl agent install`'s job (not yet built).
struct SSHAgentTransport {
    let host: HostConfig
    let agentExecutable: String
    let agentRoot: String
    /// Where the agent's stderr (its log) goes on this machine.
    let stderrPath: String
    var connectTimeout: Duration = .seconds(10)

    func open() async throws(UserError) -> SSHAgentLink {
        let ssh = host.ssh
        let user = ssh.user ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
        let connection = try await SSHConnection.connect(
            host: host.address, port: ssh.port, user: user, timeout: connectTimeout,
            hostKeys: HostKeyChecking(knownHostsPath: ssh.knownHosts),
            authentication: SSHAuthentication(identityFiles: ssh.identity.map { [$0] } ?? []))
        let command: SSHCommand
        do {
            command = try await connection.start(
                ShellQuoting.commandLine([agentExecutable, "serve", "--stdio", "--root", agentRoot]))
        } catch {
            await connection.close()
            throw error
        }
        return SSHAgentLink(
            connection: connection, command: command, stderrPath: stderrPath, agentExecutable: agentExecutable)
    }
}

/// An agent session carried by an SSH exec channel: frames from the command's stdout,
/// frames to its stdin, its stderr appended to the agent's log file.
final class SSHAgentLink: AgentLink {
    let incoming: AsyncThrowingStream<AgentMessage, any Error>
    private let connection: SSHConnection
    private let command: SSHCommand
    private let reader: Task<Void, Never>

    init(connection: SSHConnection, command: SSHCommand, stderrPath: String, agentExecutable: String) {
        self.connection = connection
        self.command = command
        let (stream, continuation) = AsyncThrowingStream<AgentMessage, any Error>.makeStream()
        incoming = stream
        let log = try? FileDescriptor.open(
            FilePath(stderrPath), .writeOnly, options: [.create, .append, .closeOnExec],
            permissions: [.ownerReadWrite, .groupRead, .otherRead])
        reader = Task {
            defer { try? log?.close() }
            var frames = FrameDecoder()
            let decoder = JSONDecoder()
            var stderrTail: [UInt8] = []
            do {
                for try await output in command.output {
                    switch output {
                    case .stderr(let bytes):
                        _ = try? log?.writeAll(bytes)
                        stderrTail = Array((stderrTail + bytes).suffix(1024))
                    case .stdout(let bytes):
                        frames.append(bytes)
                        while let frame = try frames.nextFrame() {
                            continuation.yield(try decoder.decode(AgentMessage.self, from: Data(frame)))
                        }
                    }
                }
                if frames.pendingByteCount > 0 {
                    throw ChannelError("the agent's output ended in the middle of a message")
                }
                let status = try await command.exitStatus()
                if status.code == 0 {
                    continuation.finish()
                } else if status.code == 127 {
                    continuation.finish(throwing: UserError(
                        "perf-agent is not installed at \(agentExecutable) on the node",
                        fix: "install it there (the same path as beside perfctl), or set PERF_AGENT to its path on the nodes"))
                } else {
                    let said = String(decoding: stderrTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    continuation.finish(throwing: UserError(
                        "perf-agent on the node ended (\(status))" + (said.isEmpty ? "" : ": \(said)"),
                        fix: "see the agent's log in the run directory"))
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    func send(_ message: ControllerMessage) async throws {
        let payload = try Array(JSONEncoder().encode(message))
        try await command.write(Framing.frame(payload))
    }

    func close() async {
        try? await command.closeInput()
        await reader.value
        await connection.close()
    }
}
