import Foundation
import PerfController
import PerfCore

/// perfctl's own preflight as a benchmark method: every host reached in parallel (SSH
/// login, `perf-agent dial`, hello, the node's preflight checks), in this process.
struct PerfctlPreflight: Sendable {
    let workspace: Workspace
    let plan: RunPlan
    let agent: String

    /// Plans the repository's llama2_7b case on every host of `cluster` (its cases and
    /// vendors, an agent root beside the cluster file) and installs the agent: on the
    /// first host, then on the rest, which find it there when they share the root.
    static func prepare(_ cluster: ClusterConfig) async throws -> PerfctlPreflight {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        let file = FilePaths.join(cluster.directory, "perfctl-bench.yaml")
        let text = try String(contentsOfFile: cluster.file, encoding: .utf8)
            + "cases_dir: \(repository)/cases\nvendors_dir: \(repository)/vendors\n"
            + "agent_root: \(cluster.directory)/agent\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        do {
            let workspace = try Workspace.load(clusterFile: file, caseArgument: "llama2_7b", resultsOverride: nil)
            let plan = try Planner.plan(
                cluster: workspace.cluster, case: workspace.caseConfig, vendor: workspace.vendor, preset: nil,
                overrides: CaseOverrides(nnodes: workspace.cluster.hosts.count), runID: "bench")
            let agent = try AgentExecutable.locate()
            var first = workspace.cluster
            first.hosts = Array(first.hosts.prefix(1))
            for cluster in [first, workspace.cluster] {
                for report in await AgentFleet(cluster: cluster, localAgent: agent).install(force: false) {
                    if case .failure(let error) = report.result { throw BenchmarkError("agent install: \(error)") }
                }
            }
            return PerfctlPreflight(workspace: workspace, plan: plan, agent: agent)
        } catch let error as UserError {
            throw BenchmarkError(error.description)
        } catch let errors as UserErrors {
            throw BenchmarkError(errors.description)
        }
    }

    func method(fanOut: Int) -> PreflightMethod {
        let preflight = ClusterPreflight(
            cluster: workspace.cluster, vendor: workspace.vendor, agentExecutable: agent, window: fanOut)
        let plan = plan
        return PreflightMethod(
            name: "perfctl",
            command: "perfctl preflight, in-process: SSH login (libssh2), perf-agent dial, hello, node checks; window \(fanOut)",
            isBaseline: false
        ) {
            let failures = await preflight.check(plan).compactMap { report -> String? in
                switch report.result {
                case .success(let checks): checks.passed ? nil : "\(report.host.name): \(checks.checks.filter { $0.outcome == .failed })"
                case .failure(let error): error.description
                }
            }
            if !failures.isEmpty { throw BenchmarkError("perfctl preflight failed: " + failures.joined(separator: "\n")) }
        }
    }
}
