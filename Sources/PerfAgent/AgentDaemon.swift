import Foundation
import Glibc
import Logging
import PerfCore
import PerfWire
import SystemPackage

/// `perf-agent serve --root R`: the node's long-lived agent, listening on
/// `R/agent.sock` and serving every connection as its own `AgentSession` over
/// one shared `AgentState`, so rounds outlive the controllers that started them.
///
/// One daemon per root (`DaemonLock`). It stops on an accepted `shutdown`, on
/// SIGTERM or SIGINT (running rounds are stopped: TERM, grace, KILL), or after
/// `idleExit` without sessions and rounds; then it removes its socket and pid file.
public struct AgentDaemon: Sendable {
    /// How `run()` ended.
    public enum Outcome: Sendable, Equatable {
        /// Served, then stopped for this reason.
        case stopped(reason: String)
        /// Another daemon holds the root's lock (its pid when `agent.pid` names one).
        case alreadyRunning(pid: Int32?)
    }

    private let root: AgentRoot
    private let idleExit: Duration?
    private let logger: Logger

    /// - Parameter idleExit: stop after this long without sessions and rounds; nil: never.
    public init(root: AgentRoot, idleExit: Duration?, logger: Logger) {
        self.root = root
        self.idleExit = idleExit
        self.logger = logger
    }

    /// Serves until stopped; throws when the root or its socket cannot be used.
    public func run() async throws(UserError) -> Outcome {
        try root.prepare()
        let address = try root.socketAddress()
        guard try DaemonLock.acquire(at: root.lockPath) else { return .alreadyRunning(pid: root.recordedPID()) }
        let leftovers = RankLedger(hostDirectory: root.hostDirectory).reapLeftovers()
        if !leftovers.isEmpty {
            logger.warning("killed \(leftovers.count) rank process group(s) a previous daemon left running: \(leftovers)")
        }
        let listener = try AgentListener(address: address)
        try writePIDFile()
        // Hold no directory of whoever started the daemon (every path it uses is absolute).
        chdir("/")

        let (stopReasons, stop) = AsyncStream<String>.makeStream()
        let state = AgentState(root: root.path, logger: logger) { stop.yield("shutdown requested") }
        let signals = TerminationSignals.watch { stop.yield("\($0) received") }
        let logger = self.logger
        listener.start(logger: logger) { connection in
            Task {
                do {
                    let channel = try AgentChannel(socket: connection)
                    await AgentSession(channel: channel, state: state, logger: logger).run()
                } catch {
                    logger.warning("cannot serve a connection: \(error)")
                }
            }
        }
        let idleWatch = idleExit.map { limit in Task { await Self.stopWhenIdle(state, for: limit, stop: stop) } }
        logger.info("perf-agent \(PerfVersion.string) (pid \(getpid())) serving on \(address.path)")

        var reasons = stopReasons.makeAsyncIterator()
        let reason = await reasons.next() ?? "stopped"
        logger.info("stopping: \(reason)")
        listener.close()
        idleWatch?.cancel()
        if case .success(let stopped) = await state.rounds.close(stopRunning: true, reason: "agent stopped: \(reason)"),
           !stopped.isEmpty
        {
            logger.info("stopped round(s) \(stopped.map { $0.description }.joined(separator: ", "))")
        }
        unlink(root.pidPath)
        withExtendedLifetime(signals) {}
        return .stopped(reason: reason)
    }

    private func writePIDFile() throws(UserError) {
        do {
            let fd = try FileDescriptor.open(
                FilePath(root.pidPath), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try fd.closeAfter { _ = try fd.writeAll(Array("\(getpid())\n".utf8)) }
        } catch {
            throw UserError("cannot write \(root.pidPath): \(error)", fix: "check that the agent root is writable")
        }
    }

    private static func stopWhenIdle(_ state: AgentState, for limit: Duration, stop: AsyncStream<String>.Continuation) async {
        let interval = min(.seconds(1), limit / 4)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if let idle = await state.idleDuration(), idle >= limit {
                stop.yield("no session and no round for \(limit.components.seconds) s")
                return
            }
        }
    }
}
