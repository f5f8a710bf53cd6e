import PerfCore
import PerfWire

/// One host's outcome of an operation on many hosts.
public struct HostReport<Value: Sendable>: Sendable {
    public let host: HostConfig
    public let result: Result<Value, UserError>
}

/// Reaches every node of a plan at once (bounded window), says hello and runs the
/// node's preflight checks: reachable, agent protocol, runtime, devices, entry program.
public struct ClusterPreflight: Sendable {
    private let cluster: ClusterConfig
    private let vendor: VendorConfig
    private let agentExecutable: String
    private let window: Int
    private let onEvent: @Sendable (RunEvent) -> Void

    /// - Parameters:
    ///   - agentExecutable: the perf-agent beside perfctl, run on local hosts.
    ///   - window: hosts contacted at once.
    public init(
        cluster: ClusterConfig, vendor: VendorConfig, agentExecutable: String, window: Int = FanOut.defaultWindow,
        onEvent: @escaping @Sendable (RunEvent) -> Void = { _ in }
    ) {
        self.cluster = cluster
        self.vendor = vendor
        self.agentExecutable = agentExecutable
        self.window = window
        self.onEvent = onEvent
    }

    /// Checks every node of `plan` and closes the sessions again.
    public func check(_ plan: RunPlan) async -> [HostReport<PreflightReport>] {
        let outcomes = await connect(plan, runDirectory: nil, keepFailedReports: true)
        var reports: [HostReport<PreflightReport>] = []
        for (node, outcome) in zip(plan.nodes, outcomes) {
            let host = cluster.hosts[node.nodeRank]
            switch outcome {
            case .success(let checked):
                await checked.agent.link.close()
                reports.append(HostReport(host: host, result: .success(checked.report)))
            case .failure(let error):
                reports.append(HostReport(host: host, result: .failure(error)))
            }
        }
        return reports
    }

    /// Opens a session with every node of `plan` that passes preflight; log chunks go into `runDirectory`.
    func connect(_ plan: RunPlan, runDirectory: String) async -> [Result<ConnectedAgent, UserError>] {
        await connect(plan, runDirectory: runDirectory, keepFailedReports: false).map { outcome in
            outcome.map(\.agent)
        }
    }

    private struct Checked: Sendable {
        var agent: ConnectedAgent
        var report: PreflightReport
    }

    private func connect(
        _ plan: RunPlan, runDirectory: String?, keepFailedReports: Bool
    ) async -> [Result<Checked, UserError>] {
        let jobs = plan.nodes.map { node in
            let host = cluster.hosts[node.nodeRank]
            let request = PreflightRequest(
                runtime: plan.runtime, ranksOnNode: node.ranks.count, deviceQuery: vendor.deviceQuery,
                firstRank: node.ranks.first)
            return (node, AgentEndpoint(host: host, root: cluster.agentRoot(of: host), localAgent: agentExecutable), request)
        }
        let onEvent = onEvent
        // Sessions that carry rounds watch for a silent node; a preflight check alone does not.
        let silenceLimit: Duration? = runDirectory == nil ? nil : .seconds(cluster.heartbeatTimeout)
        return await FanOut.map(jobs, window: window) { node, endpoint, request in
            await Self.connectAndCheck(
                node: node, endpoint: endpoint, request: request, runDirectory: runDirectory,
                keepFailedReport: keepFailedReports, silenceLimit: silenceLimit, onEvent: onEvent)
        }
    }

    private static func connectAndCheck(
        node: NodePlan, endpoint: AgentEndpoint, request: PreflightRequest, runDirectory: String?,
        keepFailedReport: Bool, silenceLimit: Duration?, onEvent: @escaping @Sendable (RunEvent) -> Void
    ) async -> Result<Checked, UserError> {
        var agent: ConnectedAgent
        do {
            agent = try await AgentSessionOpener(silenceLimit: silenceLimit).open(
                endpoint, node: node, runDirectory: runDirectory,
                stderrPath: runDirectory.map { FilePaths.join($0, "agent-\(node.hostName).log") },
                onEvent: { onEvent(.node($0)) })
        } catch let error as UserError {
            return .failure(error)
        } catch {
            return .failure(AgentSessionOpener.failure(UserError("\(error)"), step: .start, endpoint))
        }
        do {
            agent.clock = try await ClockProbe.measure(agent.link)
        } catch {
            await agent.link.close()
            return .failure(AgentSessionOpener.failure(error as? UserError ?? UserError("\(error)"), step: .clock, endpoint))
        }
        onEvent(.connected(host: node.hostName, hello: agent.hello, clock: agent.clock))
        let report: PreflightReport
        do {
            report = try await agent.link.preflight(request)
        } catch {
            await agent.link.close()
            return .failure(AgentSessionOpener.failure(error as? UserError ?? UserError("\(error)"), step: .preflight, endpoint))
        }
        onEvent(.preflight(host: node.hostName, report: report))
        guard report.passed || keepFailedReport else {
            await agent.link.close()
            let failed = report.checks.filter { $0.outcome == .failed }
            return .failure(AgentSessionOpener.failure(
                UserError(failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; "),
                          fix: failed.compactMap(\.fix).joined(separator: "; ")),
                step: .preflight, endpoint))
        }
        return .success(Checked(agent: agent, report: report))
    }
}
