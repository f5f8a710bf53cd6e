import Foundation
import Glibc
import PerfCore
import SystemPackage

/// Why `dial` has no connection.
public enum DialError: Error, Sendable {
    /// No daemon runs under the root, and starting one was not asked for.
    case noDaemon
    case failed(UserError)
}

/// `perf-agent dial`'s connection: to the daemon under a root, started first when none runs.
public struct AgentDialer: Sendable {
    /// How long a daemon just started has to answer.
    static let startTimeout = Duration.seconds(10)

    private let root: AgentRoot
    private let idleExitSeconds: Int?

    /// - Parameter idleExitSeconds: when no daemon runs, start one with this `--idle-exit`;
    ///   nil: do not start one.
    public init(root: AgentRoot, startingWithIdleExit idleExitSeconds: Int?) {
        self.root = root
        self.idleExitSeconds = idleExitSeconds
    }

    /// A socket connected to the daemon.
    public func connect() throws(DialError) -> FileDescriptor {
        let address: UnixSocketAddress
        do { address = try root.socketAddress() } catch { throw .failed(error) }
        if let connection = try attempt(address) { return connection }
        guard let idleExitSeconds else { throw .noDaemon }
        let daemon: pid_t
        do {
            try root.prepare()
            daemon = try DaemonLauncher.launch(root: root, idleExitSeconds: idleExitSeconds)
        } catch {
            throw .failed(error)
        }
        return try waitForAnswer(at: address, from: daemon)
    }

    /// Retries with a short backoff until the daemon answers. Two dials racing each
    /// start a daemon; the one that loses the root's lock exits 0 and both connect to the winner.
    private func waitForAnswer(at address: UnixSocketAddress, from daemon: pid_t) throws(DialError) -> FileDescriptor {
        let deadline = ContinuousClock.now + Self.startTimeout
        var delayMilliseconds = 5
        var daemonExited = false
        while true {
            if let connection = try attempt(address) { return connection }
            if !daemonExited, let status = Self.exitStatus(of: daemon) {
                daemonExited = true
                guard status == 0 else {
                    throw .failed(UserError(
                        "the perf-agent daemon started for \(root.path) exited with status \(status)\(logTail())",
                        fix: "read \(root.logPath)"))
                }
            }
            guard ContinuousClock.now < deadline else {
                throw .failed(UserError(
                    "no perf-agent daemon answered on \(address.path) within \(Self.startTimeout.components.seconds) s of starting one\(logTail())",
                    fix: "read \(root.logPath)"))
            }
            usleep(useconds_t(delayMilliseconds * 1000))
            delayMilliseconds = min(delayMilliseconds * 2, 200)
        }
    }

    /// A connection, nil when nobody listens, or the error that is not about a missing daemon.
    private func attempt(_ address: UnixSocketAddress) throws(DialError) -> FileDescriptor? {
        switch UnixSocket.connect(to: address) {
        case .success(let connection):
            return connection
        case .failure(.noSuchFileOrDirectory), .failure(.connectionRefused):
            return nil
        case .failure(let cause):
            throw .failed(UserError(
                "cannot connect to \(address.path): \(cause)", fix: "check the agent root's owner and permissions"))
        }
    }

    /// The daemon's exit status if it has exited (it stays this process's child), nil while it runs.
    private static func exitStatus(of pid: pid_t) -> Int32? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// The last lines of the daemon's log, to quote in an error.
    private func logTail() -> String {
        guard let log = try? String(contentsOfFile: root.logPath, encoding: .utf8) else { return "" }
        let lines = log.split(separator: "\n").suffix(5)
        return lines.isEmpty ? "" : "; \(root.logPath) ends with:\n" + lines.map { "    \($0)" }.joined(separator: "\n")
    }
}
