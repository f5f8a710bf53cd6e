import CLibSSH2
import PerfCore

/// One SSH connection to one host, made with libssh2. A private thread owns the
/// libssh2 session and makes every libssh2 call; this type's async methods hand it work.
///
/// ```swift
/// let ssh = try await SSHConnection.connect(host: "node1", user: "bench", timeout: .seconds(5))
/// let result = try await ssh.run("uname -a")
/// await ssh.close()
/// ```
///
/// Keep the connection until its commands have ended: dropping it closes the session.
public final class SSHConnection: Sendable {
    /// The host name or address connected to.
    public let host: String
    /// The server's TCP port.
    public let port: Int
    /// The user logged in as.
    public let user: String
    private let loop: SessionLoop

    private init(host: String, port: Int, user: String, loop: SessionLoop) {
        self.host = host
        self.port = port
        self.user = user
        self.loop = loop
    }

    /// Connects, checks the host key and logs in.
    ///
    /// - Parameters:
    ///   - timeout: for the TCP connect, the handshake and the login together; a host that
    ///     does not answer fails after it.
    ///   - hostKeys: the known_hosts file and policy; strict by default.
    ///   - authentication: which keys to try; the ssh-agent and `~/.ssh/id_ed25519`, `id_ecdsa` by default.
    ///   - keepaliveInterval: seconds between keepalives once logged in.
    ///   - stallTimeout: how long a single wait for the server may last after login
    ///     (channel opening, uploads); running commands have no time limit.
    /// - Throws: `UserError` naming the host and what to do.
    public static func connect(
        host: String,
        port: Int = 22,
        user: String,
        timeout: Duration = .seconds(10),
        hostKeys: HostKeyChecking = HostKeyChecking(),
        authentication: SSHAuthentication = SSHAuthentication(),
        keepaliveInterval: Int = 15,
        stallTimeout: Duration = .seconds(60)
    ) async throws(UserError) -> SSHConnection {
        let endpoint = Endpoint(host: host, port: port)
        let loop = try SessionLoop(core: SessionCore(endpoint: endpoint, stallTimeout: stallTimeout))
        let connection = SSHConnection(host: host, port: port, user: user, loop: loop)
        do {
            try await loop.perform { core throws(UserError) in
                let deadline = ContinuousClock.now.advanced(by: timeout)
                try core.open(timeout: timeout)
                let session = try core.requireSession()
                let verifier = HostKeyVerifier(checking: hostKeys, endpoint: endpoint)
                try verifier.preferKnownKeyTypes(session: session)
                let socket = core.socket
                let rc = try core.retry("exchanging keys", until: deadline) { libssh2_session_handshake(session, socket) }
                guard rc == 0 else {
                    throw core.failure("the SSH handshake", fix: "check that port \(port) on \(host) is an SSH server")
                }
                try verifier.verify(session: session)
                try Authenticator(options: authentication, user: user, endpoint: endpoint).authenticate(core, deadline: deadline)
                // Only now: before the handshake, keepalive set-up breaks strict key exchange.
                libssh2_keepalive_config(session, 1, UInt32(max(keepaliveInterval, 1)))
                core.authenticated = true
            }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Starts `command` on the host (run by the user's login shell; quote arguments
    /// with `ShellQuoting`). Output streams in as it is printed.
    public func start(_ command: String) async throws(UserError) -> SSHCommand {
        let loop = loop
        let started = try await loop.perform { core throws(UserError) in
            let (pump, stream) = try core.startCommand(command)
            return StartedCommand(pump: pump, stream: stream)
        }
        return SSHCommand(output: started.stream, loop: loop, pump: started.pump)
    }

    /// Runs `command` to its end, feeding it `input`, and returns all it printed.
    public func run(_ command: String, input: [UInt8] = []) async throws(UserError) -> SSHCommandResult {
        let running = try await start(command)
        if !input.isEmpty { try await running.write(input) }
        try await running.closeInput()
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        do {
            for try await chunk in running.output {
                switch chunk {
                case .stdout(let bytes): stdout += bytes
                case .stderr(let bytes): stderr += bytes
                }
            }
        } catch let error as UserError {
            throw error
        } catch {
            throw UserError("reading output from \(host):\(port) failed: \(error)", at: "host \(host):\(port)")
        }
        return SSHCommandResult(stdout: stdout, stderr: stderr, status: try await running.exitStatus())
    }

    /// Copies `bytes` to `remotePath` on the host with permission bits `mode` (e.g. `0o755`).
    public func upload(_ bytes: [UInt8], to remotePath: String, mode: Int32 = 0o644) async throws(UserError) {
        try await loop.perform { core throws(UserError) in try core.upload(bytes, to: remotePath, mode: mode) }
    }

    /// Ends running commands, disconnects, and frees the session and its socket.
    /// Safe to call more than once.
    public func close() async {
        _ = try? await loop.perform { core throws(UserError) in core.shutdown() }
    }

    deinit {
        loop.submit { core in core.shutdown() }
    }
}

/// A started command's parts, carried from the session thread to the caller.
private struct StartedCommand: @unchecked Sendable {
    // @unchecked: the pump is only used through jobs on the session thread.
    var pump: ChannelPump
    var stream: AsyncThrowingStream<SSHOutput, any Error>
}
