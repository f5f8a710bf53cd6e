import Foundation
import Glibc
import Logging
import PerfCore
import PerfWire
import Subprocess
import SystemPackage

/// Runs one round's ranks on this node as plain processes and sees them all end.
///
/// Every rank gets its own process group, stdout and stderr in `rank<R>.out.log`.
/// The round ends when every rank has ended. A rank that fails, the round timeout,
/// or a cancel stops the remaining ranks: SIGTERM to each group, then SIGKILL after
/// the grace period. When a rank's main process exits, whatever is left of its
/// group is killed, so no process outlives the round.
actor RoundSupervisor {
    private let start: StartRound
    private let directory: String
    private let send: @Sendable (AgentMessage) -> Void
    private let logger: Logger
    private let journal: AgentJournal
    private let ledger: RankLedger
    /// Process group (= leader pid) of every rank still running.
    private var groups: [Int: pid_t] = [:]
    private var stopReasons: [Int: String] = [:]
    private var roundStopReason: String?

    /// Creates the node's round directory and its journal.
    init(
        start: StartRound, directory: String, ledger: RankLedger, send: @escaping @Sendable (AgentMessage) -> Void,
        logger: Logger
    ) throws {
        self.start = start
        self.ledger = ledger
        self.directory = directory
        self.send = send
        self.logger = logger
        try Directories.create(directory)
        journal = try AgentJournal(directory: directory)
    }

    /// Runs the round to its end and reports it.
    func run() async -> RoundFinished {
        journal.note("round \(start.key) node rank \(start.nodeRank): \(start.ranks.count) rank(s), timeout \(start.timeoutSeconds) s")
        let tailer = LogTailer(directory: directory, key: start.key, send: send)
        let following = Task { await tailer.follow() }
        let timeout = start.timeoutSeconds
        let timer = Task { [weak self] in
            try await Task.sleep(for: .seconds(timeout))
            await self?.stopAll(reason: "round timeout after \(SummaryRenderer.format(timeout)) s")
        }
        var exits: [RankExit] = []
        await withTaskGroup(of: RankExit.self) { group in
            for rank in start.ranks {
                group.addTask { await self.runRank(rank) }
            }
            for await exit in group {
                exits.append(exit)
                journal.note("rank \(exit.rank) \(exit.summary) after \(String(format: "%.2f", exit.durationSeconds)) s")
                send(.rankEnded(RankEnded(key: start.key, exit: exit)))
                if !exit.succeeded && exit.stopReason == nil {
                    stopAll(reason: "rank \(exit.rank) \(exit.summary)")
                }
            }
        }
        timer.cancel()
        journal.note("round ended")
        journal.close()
        let files = await tailer.finish()
        following.cancel()
        return RoundFinished(
            key: start.key, exits: exits.sorted { $0.rank < $1.rank }, nodeDirectory: directory, files: files)
    }

    /// Ranks whose processes run now.
    var ranksAlive: Int { groups.count }

    /// Stops every running rank (TERM, then KILL after the grace period); idempotent.
    func stopAll(reason: String) {
        if roundStopReason == nil { roundStopReason = reason }
        let targets = groups.filter { stopReasons[$0.key] == nil }
        guard !targets.isEmpty else { return }
        journal.note("stopping rank(s) \(targets.keys.sorted().map(String.init).joined(separator: ", ")): \(reason)")
        for (rank, group) in targets {
            stopReasons[rank] = reason
            kill(-group, SIGTERM)
        }
        let grace = start.killGraceSeconds
        Task {
            try? await Task.sleep(for: .seconds(grace))
            self.killRemaining(Array(targets.keys))
        }
    }

    private func killRemaining(_ ranks: [Int]) {
        for rank in ranks {
            guard let group = groups[rank] else { continue }
            journal.note("rank \(rank) still running \(start.killGraceSeconds) s after SIGTERM: SIGKILL")
            kill(-group, SIGKILL)
        }
    }

    private func started(rank: Int, pid: pid_t) {
        groups[rank] = pid
        ledger.record(group: pid)
        send(.rankStarted(RankStarted(key: start.key, rank: rank, pid: pid)))
        if let roundStopReason, stopReasons[rank] == nil {
            stopReasons[rank] = roundStopReason
            kill(-pid, SIGTERM)
        }
    }

    /// Forgets a rank whose main process exited, killing leftovers in its group.
    private func ended(rank: Int) -> String? {
        if let group = groups.removeValue(forKey: rank) {
            if kill(-group, 0) == 0 {
                journal.note("rank \(rank): processes left in its group after it exited; SIGKILL")
                kill(-group, SIGKILL)
            }
            ledger.forget(group: group)
        }
        return stopReasons[rank]
    }

    private nonisolated func runRank(_ launch: RankLaunch) async -> RankExit {
        let began = ContinuousClock.now
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - began
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
        var planned = launch.environment
        planned["PERF_ROUND"] = String(start.key.round)
        planned["PERF_LOG_DIR"] = directory
        let environment = EnvironmentExpansion.expand(planned, inherited: ProcessInfo.processInfo.environment)
        let executable: String
        switch ExecutableLookup.resolve(
            launch.argv.first ?? "", path: environment["PATH"], workingDirectory: launch.workingDirectory)
        {
        case .success(let path): executable = path
        case .failure(let failure):
            return RankExit(rank: launch.rank, launchError: failure.reason, durationSeconds: seconds())
        }
        let logPath = FilePaths.join(directory, "rank\(launch.rank).out.log")
        let log: FileDescriptor
        do {
            log = try FileDescriptor.open(
                FilePath(logPath), .writeOnly, options: [.create, .truncate, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            return RankExit(rank: launch.rank, launchError: "cannot create \(logPath): \(error)", durationSeconds: seconds())
        }
        defer { try? log.close() }
        var options = PlatformOptions()
        options.processGroupID = 0
        journal.note("rank \(launch.rank): \(executable) \(launch.argv.dropFirst().joined(separator: " ")) (in \(launch.workingDirectory))")
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(executablePathOverride: launch.argv.first, remainingValues: Array(launch.argv.dropFirst())),
                environment: .custom(Dictionary(uniqueKeysWithValues: environment.compactMap { key, value in
                    Environment.Key(rawValue: key).map { ($0, value) }
                })),
                workingDirectory: FilePath(launch.workingDirectory),
                platformOptions: options,
                input: .none,
                output: .fileDescriptor(log, closeAfterSpawningProcess: false),
                error: .fileDescriptor(log, closeAfterSpawningProcess: false)
            ) { execution in
                await self.started(rank: launch.rank, pid: execution.processIdentifier.value)
            }
            let stopReason = await ended(rank: launch.rank)
            var exit = RankExit(rank: launch.rank, stopReason: stopReason, durationSeconds: seconds())
            switch result.terminationStatus {
            case .exited(let code): exit.exitCode = code
            case .signaled(let signal): exit.signal = signal
            }
            return exit
        } catch {
            _ = await ended(rank: launch.rank)
            return RankExit(rank: launch.rank, launchError: "cannot start \(executable): \(error)", durationSeconds: seconds())
        }
    }
}
