import Foundation
import Logging
import PerfCore
import PerfWire

/// What every session of one agent process shares: its rounds, who the agent is,
/// how many controllers are connected, and how an accepted shutdown reaches the
/// process. The daemon makes one for all its connections, `serve --stdio` one for
/// its single session.
public actor AgentState {
    /// The agent root; node round directories go under `<root>/runs/`.
    public nonisolated let root: String
    public nonisolated let rounds: RoundRegistry
    private let logger: Logger
    private let onShutdown: @Sendable () -> Void
    private let startedAtNanoseconds = Timestamp.nanosecondsSinceEpoch()
    private var executableSHA256: String?
    private var sessions = 0
    private var sessionsServed = 0
    private var lastSessionEnded = ContinuousClock.now

    /// - Parameter onShutdown: called once a session has answered an accepted `shutdown`
    ///   (its rounds are stopped by then): the process should clean up and exit.
    public init(root: String, logger: Logger, onShutdown: @escaping @Sendable () -> Void = {}) {
        self.root = root
        self.logger = logger
        self.onShutdown = onShutdown
        rounds = RoundRegistry(root: root, logger: logger)
    }

    /// Counts a session in; returns its number for the log.
    func sessionBegan() -> Int {
        sessions += 1
        sessionsServed += 1
        return sessionsServed
    }

    func sessionEnded() {
        sessions -= 1
        lastSessionEnded = .now
    }

    /// The answer to `status`.
    func status() async -> AgentStatus {
        let digest = executableSHA256 ?? SelfExecutable.sha256()
        executableSHA256 = digest
        return AgentStatus(
            agentVersion: PerfVersion.string, pid: ProcessInfo.processInfo.processIdentifier,
            executable: SelfExecutable.path, executableSHA256: digest, root: root,
            startedAtNanoseconds: startedAtNanoseconds, sessions: sessions, rounds: await rounds.running())
    }

    /// Carries out `shutdown` up to the answer: refuses while rounds run unless
    /// `cancelRunning`, else stops them and waits for them to end.
    func shutdown(_ request: ShutdownRequest) async -> Result<ShutdownReport, AgentFailure> {
        switch await rounds.close(stopRunning: request.cancelRunning, reason: "agent shutdown") {
        case .success(let stopped):
            logger.info("shutdown requested; stopped \(stopped.count) round(s)")
            return .success(ShutdownReport(stoppedRounds: stopped))
        case .failure(let failure):
            logger.info("shutdown refused: \(failure.message)")
            return .failure(failure)
        }
    }

    /// A session has answered an accepted shutdown.
    func shutdownAnswered() { onShutdown() }

    /// How long the agent has had no session and no running round; nil while it has either.
    func idleDuration() async -> Duration? {
        guard sessions == 0, let roundsIdle = await rounds.idleSince else { return nil }
        return ContinuousClock.now - max(roundsIdle, lastSessionEnded)
    }
}
