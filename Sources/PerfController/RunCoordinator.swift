import Foundation
import Logging
import PerfCore
import PerfWire
import Subprocess

/// What the user asked `perfctl run` to do.
public struct RunRequest: Sendable {
    public var cluster: ClusterConfig
    public var caseConfig: CaseConfig
    public var vendor: VendorConfig
    public var preset: String?
    public var overrides: CaseOverrides
    /// The command line, recorded in run.json.
    public var commandLine: [String]
    /// Seconds between SIGTERM and SIGKILL when ranks are stopped.
    public var killGraceSeconds: Double

    public init(
        cluster: ClusterConfig, caseConfig: CaseConfig, vendor: VendorConfig, preset: String?,
        overrides: CaseOverrides, commandLine: [String], killGraceSeconds: Double = 10
    ) {
        self.cluster = cluster
        self.caseConfig = caseConfig
        self.vendor = vendor
        self.preset = preset
        self.overrides = overrides
        self.commandLine = commandLine
        self.killGraceSeconds = killGraceSeconds
    }
}

/// Progress of a run, for the CLI to print.
public enum RunEvent: Sendable {
    case planned(RunPlan, runDirectory: String)
    /// `clock`: the host's clock offset against the controller's, when it was measured.
    case connected(host: String, hello: AgentHello, clock: ClockOffset?)
    case preflight(host: String, report: PreflightReport)
    case roundStarted(round: Int, of: Int)
    case node(NodeEvent)
    case roundFinished(RoundResult, metrics: [PlannedMetric])
}

/// How a run ended.
public struct RunOutcome: Sendable {
    public var runDirectory: String
    public var record: RunRecord
    public var caseResult: CaseResult
    public var rounds: [RoundResult]
    /// The text of summary.md.
    public var summary: String
}

/// Runs a case on the cluster: plan, connect every node's agent, run the rounds,
/// collect logs as they stream, judge every round and write the results tree.
public struct RunCoordinator: Sendable {
    private let request: RunRequest
    private let agentExecutable: String
    private let onEvent: @Sendable (RunEvent) -> Void
    private let cancellation: RunCancellation

    /// - Parameter cancellation: lets the caller stop the run (e.g. on Ctrl-C).
    public init(
        request: RunRequest, agentExecutable: String, cancellation: RunCancellation = RunCancellation(),
        onEvent: @escaping @Sendable (RunEvent) -> Void
    ) {
        self.request = request
        self.agentExecutable = agentExecutable
        self.cancellation = cancellation
        self.onEvent = onEvent
    }

    public func run() async throws -> RunOutcome {
        let startedAt = Date()
        let results = request.cluster.resultsDirectory
        let runID = try RunDirectory.allocate(in: results, caseName: request.caseConfig.name, date: startedAt)
        let runDirectory = FilePaths.join(results, runID)
        let plan = try Planner.plan(
            cluster: request.cluster, case: request.caseConfig, vendor: request.vendor, preset: request.preset,
            overrides: request.overrides, runID: runID)
        onEvent(.planned(plan, runDirectory: runDirectory))

        var record = RunRecord(
            runID: runID, status: .running, startedAt: Timestamp.iso8601(startedAt), perfctlVersion: PerfVersion.string,
            protocolVersion: WireProtocol.version, commandLine: request.commandLine,
            cluster: try ConfigFileRecord(hashing: request.cluster.file),
            caseFile: try ConfigFileRecord(hashing: request.caseConfig.file),
            vendor: try ConfigFileRecord(hashing: request.vendor.file),
            hosts: plan.nodes.map { HostRecord(name: $0.hostName, address: $0.address, nodeRank: $0.nodeRank) },
            plan: plan)
        try ResultsWriter.write(record, to: FilePaths.join(runDirectory, "run.json"))

        var links: [NodeLink]
        do {
            links = try await connect(plan, runDirectory: runDirectory, record: &record)
        } catch {
            record.status = .aborted
            record.endedAt = Timestamp.iso8601()
            record.abortReason = "could not reach every node: \(error)"
            try ResultsWriter.write(record, to: FilePaths.join(runDirectory, "run.json"))
            throw error
        }
        try ResultsWriter.write(record, to: FilePaths.join(runDirectory, "run.json"))

        var rounds: [RoundResult] = []
        var abortReason: String?
        await cancellation.attach(links)
        for round in 1...plan.rounds {
            onEvent(.roundStarted(round: round, of: plan.rounds))
            await cancellation.roundStarted(RoundKey(runID: plan.runID, caseName: plan.caseName, round: round))
            let (result, lostNodes, runCancelled) = await runRound(
                round, plan: plan, links: links, runDirectory: runDirectory, hosts: record.hosts)
            await cancellation.roundEnded()
            rounds.append(result)
            try ResultsWriter.write(
                result, to: FilePaths.join(runDirectory, "\(plan.caseName)/round\(round)/result.json"))
            onEvent(.roundFinished(result, metrics: plan.metrics))
            if let lost = lostNodes.first, round < plan.rounds, await cancellation.reason == nil, runCancelled == nil {
                // The next round needs every node: reach the lost ones again (a new SSH login and
                // dial, which starts a new daemon where the old one died).
                let hosts = lostNodes.map(\.host)
                do {
                    links = try await reconnect(hosts, plan: plan, links: links, runDirectory: runDirectory, record: &record)
                    await cancellation.attach(links)
                    // A node that was only unreachable still runs the round: stop its ranks.
                    let key = RoundKey(runID: plan.runID, caseName: plan.caseName, round: round)
                    for node in plan.nodes where hosts.contains(node.hostName) {
                        await links[node.nodeRank].cancel(key, reason: "its controller lost this node during the round")
                    }
                    continue
                } catch {
                    abortReason = "round \(round) ended on \(hosts.joined(separator: ", ")) without the agent's outcome "
                        + "(\(lost.error.location.map { "\($0): " } ?? "")\(lost.error.message)), and reaching it again failed: "
                        + "\(error); later rounds were not run"
                    break
                }
            }
            if let reason = await cancellation.reason {
                abortReason = "cancelled after round \(round) of \(plan.rounds): \(reason)"
                break
            }
            if let reason = runCancelled {
                abortReason = "cancelled during round \(round) of \(plan.rounds): \(reason)"
                break
            }
        }
        for link in links { await link.close() }

        let caseResult = CaseResult(plan: plan, rounds: rounds)
        record.endedAt = Timestamp.iso8601()
        record.abortReason = abortReason
        record.status = abortReason != nil ? .aborted : (caseResult.verdict == .passed ? .passed : .failed)
        try ResultsWriter.write(caseResult, to: FilePaths.join(runDirectory, "\(plan.caseName)/result.json"))
        let summary = SummaryRenderer.markdown(
            record: record, caseResult: caseResult, rounds: rounds, runDirectory: runDirectory)
        try AtomicFile.write(summary, to: FilePaths.join(runDirectory, "summary.md"))
        try AtomicFile.write(SummaryRenderer.csv(caseResult: caseResult), to: FilePaths.join(runDirectory, "summary.csv"))
        try AtomicFile.write(
            SummaryRenderer.failuresLog(rounds: rounds, abortReason: abortReason),
            to: FilePaths.join(runDirectory, "failures.log"))
        try ResultsWriter.write(record, to: FilePaths.join(runDirectory, "run.json"))
        return RunOutcome(runDirectory: runDirectory, record: record, caseResult: caseResult, rounds: rounds, summary: summary)
    }

    /// Reaches every node's agent, says hello and runs preflight; fails naming every
    /// host that could not be reached or did not pass.
    private func connect(
        _ plan: RunPlan, runDirectory: String, record: inout RunRecord
    ) async throws -> [NodeLink] {
        let opened = try await openAgents(plan, runDirectory: runDirectory, record: &record)
        return plan.nodes.map { opened[$0.nodeRank]! }
    }

    /// Opens new sessions with the nodes of `hosts` and returns `links` with theirs
    /// replaced; throws naming every node that could not be reached.
    private func reconnect(
        _ hosts: [String], plan: RunPlan, links: [NodeLink], runDirectory: String, record: inout RunRecord
    ) async throws -> [NodeLink] {
        var subset = plan
        subset.nodes = plan.nodes.filter { hosts.contains($0.hostName) }
        for node in subset.nodes { await links[node.nodeRank].close() }
        var replaced = links
        for (nodeRank, link) in try await openAgents(subset, runDirectory: runDirectory, record: &record) {
            replaced[nodeRank] = link
            record.hosts[nodeRank].reconnects = (record.hosts[nodeRank].reconnects ?? 0) + 1
        }
        try ResultsWriter.write(record, to: FilePaths.join(runDirectory, "run.json"))
        return replaced
    }

    /// Opens sessions with the nodes of `plan` (hello, clock probes, preflight), records
    /// what each agent said in run.json's hosts, and returns the links by node rank; throws
    /// naming every node that failed, after closing the others.
    private func openAgents(
        _ plan: RunPlan, runDirectory: String, record: inout RunRecord
    ) async throws -> [Int: NodeLink] {
        let preflight = ClusterPreflight(
            cluster: request.cluster, vendor: request.vendor, agentExecutable: agentExecutable, onEvent: onEvent)
        var links: [Int: NodeLink] = [:]
        var errors: [UserError] = []
        for (node, outcome) in zip(plan.nodes, await preflight.connect(plan, runDirectory: runDirectory)) {
            switch outcome {
            case .success(let agent):
                links[node.nodeRank] = agent.link
                record.hosts[node.nodeRank].hostname = agent.hello.hostname
                record.hosts[node.nodeRank].agentVersion = agent.hello.agentVersion
                record.hosts[node.nodeRank].protocolVersion = agent.hello.protocolVersion
                record.hosts[node.nodeRank].clockOffsetMs = agent.clock?.offsetMs
                record.hosts[node.nodeRank].clockUncertaintyMs = agent.clock?.uncertaintyMs
            case .failure(let error):
                errors.append(error)
            }
        }
        guard errors.isEmpty else {
            for link in links.values { await link.close() }
            throw UserErrors(errors)
        }
        return links
    }

    /// Runs one round on every node and judges it; also returns the nodes that gave no
    /// outcome, and why, and the reason when the run was cancelled on a node (`perfctl cancel`).
    private func runRound(
        _ round: Int, plan: RunPlan, links: [NodeLink], runDirectory: String, hosts: [HostRecord]
    ) async -> (RoundResult, lostNodes: [(host: String, error: UserError)], runCancelled: String?) {
        let key = RoundKey(runID: plan.runID, caseName: plan.caseName, round: round)
        let began = Date()
        var finished: [Int: RoundFinished] = [:]
        var failures: [String] = []
        var lost: [(host: String, error: UserError)] = []
        await withTaskGroup(of: (Int, Result<RoundFinished, UserError>).self) { group in
            for link in links {
                let node = link.node
                let start = StartRound(
                    key: key, nodeRank: node.nodeRank, runtime: plan.runtime, ranks: node.ranks,
                    timeoutSeconds: plan.roundTimeout, killGraceSeconds: request.killGraceSeconds)
                group.addTask {
                    do {
                        return (node.nodeRank, .success(try await link.runRound(start)))
                    } catch let error as UserError {
                        return (node.nodeRank, .failure(error))
                    } catch {
                        return (node.nodeRank, .failure(UserError("\(error)", at: "host \(node.hostName)")))
                    }
                }
            }
            for await (nodeRank, result) in group {
                switch result {
                case .success(let outcome):
                    finished[nodeRank] = outcome
                case .failure(let error):
                    failures.append(error.description)
                    lost.append((plan.nodes[nodeRank].hostName, error))
                    for link in links { await link.cancel(key, reason: "\(error.location ?? "a node") failed") }
                }
            }
        }
        let ended = Date()
        var inputs: [RoundEvaluator.RankInput] = []
        for node in plan.nodes {
            let exits = finished[node.nodeRank]?.exits ?? []
            for launch in node.ranks {
                let log = FilePaths.join(LogCollector.nodeDirectory(key, node: node), "rank\(launch.rank).out.log")
                let exit = exits.first { $0.rank == launch.rank }
                    ?? RankExit(rank: launch.rank, launchError: "no exit status: the node's agent was lost")
                let scan: PerfLogScanResult
                do {
                    scan = try PerfLogScanner.scan(file: FilePaths.join(runDirectory, log))
                } catch {
                    scan = PerfLogScanResult(events: [], report: PerfLogReport())
                    if exit.launchError == nil { failures.append("host \(node.hostName), rank \(launch.rank): \(error)") }
                }
                inputs.append(RoundEvaluator.RankInput(
                    rank: launch.rank, nodeRank: node.nodeRank, host: node.hostName, log: log, exit: exit, scan: scan,
                    clockOffsetMs: hosts.first { $0.nodeRank == node.nodeRank }?.clockOffsetMs))
            }
        }
        let result = RoundEvaluator.evaluate(
            round: round, ranks: inputs, metrics: plan.metrics, startedAt: Timestamp.iso8601(began),
            endedAt: Timestamp.iso8601(ended), durationSeconds: ended.timeIntervalSince(began),
            extraFailures: failures)
        return (result, lost, finished.values.compactMap(\.runCancelled).first)
    }
}
