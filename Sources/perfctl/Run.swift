import ArgumentParser
import Foundation
import PerfController
import PerfCore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a case on the cluster and print its summary.",
        discussion: """
            Every round starts all ranks on every node, waits for them to end (or stops them at the \
            round timeout), collects their logs and judges the round. A failed round keeps its logs \
            and the run goes on. Results go to <results>/<run-id>/; the summary is printed at the \
            end. Exit status: 0 when every round passed, 1 when some failed, 2 on a configuration \
            error.

            Examples:
              perfctl run cases/llama2_7b
              perfctl run cases/llama2_7b --preset tiny --rounds 2
              perfctl run llama2_7b --cluster lab/cluster.yaml --results /data/results
            """
    )

    @OptionGroup var options: ClusterOptions
    @OptionGroup var selection: CaseSelection

    @Option(name: .customLong("kill-grace"), help: "Seconds between SIGTERM and SIGKILL when ranks are stopped.")
    var killGrace: Double = 10

    func run() async throws {
        let outcome = try await reportingUserErrors {
            let workspace = try Workspace.load(
                clusterFile: options.cluster, caseArgument: selection.caseName, resultsOverride: options.results)
            let request = RunRequest(
                cluster: workspace.cluster, caseConfig: workspace.caseConfig, vendor: workspace.vendor,
                preset: selection.preset, overrides: selection.overrides, commandLine: CommandLine.arguments,
                killGraceSeconds: killGrace)
            let cancellation = RunCancellation()
            let coordinator = RunCoordinator(
                request: request, agentExecutable: try AgentExecutable.locate(), cancellation: cancellation,
                onEvent: { printError(ProgressLine.text(for: $0)) })
            let interrupts = InterruptHandler { name in
                printError("perfctl: \(name): stopping the round's ranks on every node (again to quit at once)")
                Task { await cancellation.cancel(reason: "perfctl received \(name)") }
            }
            defer { interrupts.cancel() }
            return try await coordinator.run()
        }
        print(outcome.summary, terminator: "")
        if outcome.record.status != .passed { throw ExitCode(1) }
    }
}

extension CaseSelection {
    var overrides: CaseOverrides {
        CaseOverrides(nnodes: nnodes, nprocPerNode: nprocPerNode, rounds: rounds, roundTimeout: roundTimeout)
    }
}

/// One plain line per run event (stderr), readable in a terminal and in a CI log.
enum ProgressLine {
    static func text(for event: RunEvent) -> String {
        switch event {
        case .planned(let plan, let directory):
            return "perfctl: run \(plan.runID): \(plan.caseName) preset \(plan.preset ?? "(none)") on vendor \(plan.vendor), "
                + "\(plan.nnodes) node(s) × \(plan.nprocPerNode) rank(s), \(plan.rounds) round(s)\n  results: \(directory)"
        case .connected(let host, let hello, let clock):
            var line = "  \(host): perf-agent \(hello.agentVersion) on \(hello.hostname) (protocol \(hello.protocolVersion))"
            if let clock { line += ", clock \(clock.description)" }
            return line
        case .preflight(let host, let report):
            return PreflightText.lines(host: host, report: report, verbose: false)
        case .roundStarted(let round, let total):
            return "round \(round)/\(total): starting"
        case .node(.rankStarted(let host, let rank, let pid)):
            return "  \(host) rank \(rank): started (pid \(pid))"
        case .node(.rankEnded(let host, let exit)):
            return "  \(host) rank \(exit.rank): \(exit.summary) after \(String(format: "%.1f", exit.durationSeconds)) s"
        case .roundFinished(let result, let metrics):
            var line = "round \(result.round): \(result.verdict.rawValue) in \(String(format: "%.1f", result.durationSeconds)) s"
            let shown = metrics.compactMap { metric in
                result.values[metric.name].map { "\(metric.name) \(SummaryRenderer.format($0))" }
            }
            if !shown.isEmpty { line += ": " + shown.joined(separator: ", ") }
            for failure in result.failures { line += "\n  failure: \(failure)" }
            return line
        }
    }
}
