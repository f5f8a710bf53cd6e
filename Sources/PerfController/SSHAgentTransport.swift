import Foundation
import PerfCore
import PerfSSH
import PerfWire
import Synchronization
import SystemPackage

/// Logs in to a remote host over SSH (libssh2, strict host-key check by default).
enum SSHLogin {
    /// Connects to `host` with its cluster.yaml SSH settings.
    static func connect(_ host: HostConfig, timeout: Duration = .seconds(10)) async throws(UserError) -> SSHConnection {
        let ssh = host.ssh
        let user = ssh.user ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
        return try await SSHConnection.connect(
            host: host.address, port: ssh.port, user: user, timeout: timeout,
            hostKeys: HostKeyChecking(knownHostsPath: ssh.knownHosts),
            authentication: SSHAuthentication(identityFiles: ssh.identity.map { [$0] } ?? []))
    }
}

/// Reaches a remote host's agent: runs `perf-agent dial` in an SSH exec channel,
/// which bridges the channel to the agent daemon's socket on the host (starting the
/// daemon if none runs), so the channel carries the agent protocol as a local pipe does.
struct SSHAgentTransport {
    let endpoint: AgentEndpoint
    /// Start the daemon when none runs.
    let startDaemon: Bool
    /// Where dial's stderr goes on this machine.
    let stderrPath: String?

    func open(over connection: SSHConnection) async throws(UserError) -> SSHAgentLink {
        let command = ShellQuoting.quotePath(endpoint.agentPath) + " "
            + ShellQuoting.commandLine(["dial", "--root", endpoint.root] + (startDaemon ? [] : ["--no-start"]))
        let running = try await connection.start(command)
        return SSHAgentLink(
            connection: connection, command: running, stderrPath: stderrPath, agentPath: endpoint.agentPath,
            location: endpoint.location)
    }
}

/// An agent session carried by an SSH exec channel: frames from the command's stdout,
/// frames to its stdin, its stderr appended to a log file. Closing it closes the connection.
final class SSHAgentLink: AgentLink {
    let incoming: AsyncThrowingStream<AgentMessage, any Error>
    private let connection: SSHConnection
    private let command: SSHCommand
    private let reader: Task<Void, Never>

    init(connection: SSHConnection, command: SSHCommand, stderrPath: String?, agentPath: String, location: String) {
        self.connection = connection
        self.command = command
        let (stream, continuation) = AsyncThrowingStream<AgentMessage, any Error>.makeStream()
        incoming = stream
        let log = stderrPath.flatMap {
            try? FileDescriptor.open(
                FilePath($0), .writeOnly, options: [.create, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        }
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
                switch status.code {
                case 0: continuation.finish()
                case DialExit.noDaemon: continuation.finish(throwing: AgentNotRunning())
                case DialExit.notFound:
                    continuation.finish(throwing: UserError(
                        "perf-agent is not installed at \(agentPath)", at: location,
                        fix: "run `perfctl agent install` to deploy it to every host"))
                default:
                    let said = String(decoding: stderrTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    continuation.finish(throwing: UserError(
                        "perf-agent dial ended (\(status))" + (said.isEmpty ? "" : ": \(said)"), at: location,
                        fix: "see agent.log under the host's agent root"))
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

    /// Ends the session: end of input for dial, which then exits; a link whose host no
    /// longer answers (the reader waits in vain) is cut after `goodbyeTimeout`.
    func close() async {
        try? await command.closeInput()
        let reader = reader
        // Not a task group: it would wait for the reader even after the timeout.
        let ended = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answered = Mutex(false)
            let answer = { @Sendable (value: Bool) in
                if answered.withLock({ done in defer { done = true }; return !done }) { continuation.resume(returning: value) }
            }
            Task { await reader.value; answer(true) }
            Task { try? await Task.sleep(for: Self.goodbyeTimeout); answer(false) }
        }
        await connection.close()
        if !ended { await reader.value }
    }

    /// How long a closing link waits for dial to end before the connection is cut.
    static let goodbyeTimeout: Duration = .seconds(5)
}
