import Logging
import PerfCore
import PerfWire

/// The rounds this agent runs, shared by all of its sessions.
///
/// A round belongs to the agent, not to the session that started it: when that
/// controller disconnects, the round runs to its end (its messages are dropped,
/// its files stay on disk). Rounds are keyed by run id, case and round, so the
/// rounds of different runs run side by side and a key cannot run twice.
public actor RoundRegistry {
    private struct Entry {
        var supervisor: RoundSupervisor
        var task: Task<Void, Never>
        var nodeRank: Int
        var startedAtNanoseconds: Int64
    }

    private let root: String
    private let ledger: RankLedger
    private let logger: Logger
    private var rounds: [RoundKey: Entry] = [:]
    /// Set once the agent is shutting down: new rounds are refused with this reason.
    private var closedReason: String?
    /// Runs cancelled with `cancelRun`, and why: their later rounds are refused.
    private var cancelledRuns: [String: String] = [:]
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var lastEnded = ContinuousClock.now

    /// - Parameter root: the agent root; node round directories go under `<root>/runs/`.
    init(root: String, logger: Logger) {
        self.root = root
        ledger = RankLedger(hostDirectory: AgentRoot(root).hostDirectory)
        self.logger = logger
    }

    /// Starts a round whose messages go to `send`; the failure to answer when it cannot start.
    func start(_ start: StartRound, send: @escaping @Sendable (AgentMessage) -> Void) -> AgentFailure? {
        if let closedReason {
            return AgentFailure(key: start.key, message: "the agent is shutting down (\(closedReason)); round \(start.key) not started")
        }
        if let reason = cancelledRuns[start.key.runID] {
            return AgentFailure(key: start.key, message: "run \(start.key.runID) was cancelled (\(reason)); round \(start.key.round) not started")
        }
        guard start.runtime == .process else {
            return AgentFailure(
                key: start.key,
                message: "perf-agent \(PerfVersion.string) cannot start ranks with runtime '\(start.runtime.rawValue)' yet; it runs plain processes",
                fix: "use a vendor whose vendor.yaml says `runtime: process` (e.g. vendors/cpu)")
        }
        guard rounds[start.key] == nil else {
            return AgentFailure(
                key: start.key, message: "round \(start.key) is already running on this node",
                fix: "give each run its own run id")
        }
        let directory = [root, "runs", start.key.runID, start.key.caseName, "round\(start.key.round)", "noderank\(start.nodeRank)"]
            .joined(separator: "/")
        let supervisor: RoundSupervisor
        do {
            supervisor = try RoundSupervisor(
                start: start, directory: directory, ledger: ledger, send: send, logger: logger)
        } catch {
            return AgentFailure(
                key: start.key, message: "cannot create the round directory \(directory): \(error)",
                fix: "check that the agent root \(root) is writable")
        }
        let key = start.key
        let task = Task {
            var finished = await supervisor.run()
            finished.runCancelled = await self.cancelReason(of: key.runID)
            send(.roundFinished(finished))
            self.ended(key)
        }
        rounds[key] = Entry(
            supervisor: supervisor, task: task, nodeRank: start.nodeRank,
            startedAtNanoseconds: Timestamp.nanosecondsSinceEpoch())
        logger.info("round \(key) started: \(start.ranks.count) rank(s)")
        return nil
    }

    /// Stops a round's ranks (TERM, grace, KILL); a round not running here is ignored.
    func cancel(_ cancel: CancelRound) async {
        await rounds[cancel.key]?.supervisor.stopAll(reason: "cancelled: \(cancel.reason)")
    }

    /// Stops every round of a run (TERM, grace, KILL), waits for them to end, and refuses
    /// the run's later rounds.
    func cancelRun(_ cancel: CancelRun) async -> RunCancelled {
        cancelledRuns[cancel.runID] = cancel.reason
        let targets = rounds.filter { $0.key.runID == cancel.runID }
        var ranks = 0
        for entry in targets.values {
            ranks += await entry.supervisor.ranksAlive
            await entry.supervisor.stopAll(reason: "cancelled: \(cancel.reason)")
        }
        for entry in targets.values { await entry.task.value }
        logger.info("run \(cancel.runID) cancelled (\(cancel.reason)): \(targets.count) round(s), \(ranks) rank(s) stopped")
        return RunCancelled(
            runID: cancel.runID, stoppedRounds: targets.keys.sorted { $0.description < $1.description }, ranksStopped: ranks)
    }

    private func cancelReason(of runID: String) -> String? { cancelledRuns[runID] }

    /// The rounds running now, oldest first.
    func running() async -> [RunningRound] {
        var list: [RunningRound] = []
        for (key, entry) in rounds {
            list.append(RunningRound(
                key: key, nodeRank: entry.nodeRank, ranksAlive: await entry.supervisor.ranksAlive,
                startedAtNanoseconds: entry.startedAtNanoseconds))
        }
        return list.sorted { ($0.startedAtNanoseconds, $0.key.description) < ($1.startedAtNanoseconds, $1.key.description) }
    }

    /// Since when no round runs (since the registry was made when none ever ran); nil while rounds run.
    var idleSince: ContinuousClock.Instant? { rounds.isEmpty ? lastEnded : nil }

    /// Closes the registry for a shutdown: refuses new rounds from now on, stops the
    /// running ones (TERM, grace, KILL) and waits for them to end, returning their keys.
    /// When rounds run and `stopRunning` is false, nothing changes and the failure names them.
    func close(stopRunning: Bool, reason: String) async -> Result<[RoundKey], AgentFailure> {
        let keys = rounds.keys.sorted { $0.description < $1.description }
        guard keys.isEmpty || stopRunning else {
            return .failure(AgentFailure(
                message: "rounds are running on this agent: \(keys.map(\.description).joined(separator: ", "))",
                fix: "wait for them, or stop with --force"))
        }
        if closedReason == nil { closedReason = reason }
        for entry in rounds.values { await entry.supervisor.stopAll(reason: reason) }
        await waitUntilEmpty()
        return .success(keys)
    }

    /// Returns once no round runs.
    public func waitUntilEmpty() async {
        guard !rounds.isEmpty else { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func ended(_ key: RoundKey) {
        rounds[key] = nil
        lastEnded = .now
        logger.info("round \(key) ended")
        guard rounds.isEmpty else { return }
        for waiter in idleWaiters { waiter.resume() }
        idleWaiters.removeAll()
    }
}
