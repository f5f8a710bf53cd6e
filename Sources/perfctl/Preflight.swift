import ArgumentParser
import PerfController
import PerfCore

struct Preflight: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every node of a case's run without running it.",
        discussion: """
            Reaches every node in parallel (SSH login, agent hello with the protocol check) and \
            runs the node's checks: agent root writable, runtime present, enough devices for the \
            node's ranks (vendor.yaml `device_query`), the case directory and entry program there. \
            `perfctl run` does the same before its first round. Exit status 1 when a node fails.

            Examples:
              perfctl preflight cases/llama2_7b
              perfctl preflight cases/llama2_7b --cluster lab/cluster.yaml --nnodes 4
            """
    )

    @OptionGroup var options: ClusterOptions
    @OptionGroup var selection: CaseSelection

    func run() async throws {
        let (workspace, plan) = try await reportingUserErrors {
            let workspace = try Workspace.load(
                clusterFile: options.cluster, caseArgument: selection.caseName, resultsOverride: options.results)
            let plan = try Planner.plan(
                cluster: workspace.cluster, case: workspace.caseConfig, vendor: workspace.vendor,
                preset: selection.preset, overrides: selection.overrides, runID: "preflight")
            return (workspace, plan)
        }
        let preflight = ClusterPreflight(
            cluster: workspace.cluster, vendor: workspace.vendor,
            agentExecutable: try await reportingUserErrors { try AgentExecutable.locate() })
        var failed = false
        for report in await preflight.check(plan) {
            switch report.result {
            case .success(let checks):
                print(PreflightText.lines(host: "\(report.host.name) (\(report.host.address))", report: checks, verbose: true))
                failed = failed || !checks.passed
            case .failure(let error):
                print("  \(report.host.name) (\(report.host.address)): FAILED")
                printError(error.description)
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
