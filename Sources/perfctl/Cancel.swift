import ArgumentParser
import Foundation
import PerfController
import PerfCore

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a run on every host: its ranks (SIGTERM, grace, SIGKILL) and its later rounds.",
        discussion: """
            Talks to every host's agent directly, so it works from another terminal or machine \
            and also when the run's perfctl is gone. Each host reports the rounds and ranks it \
            stopped once they have ended; the run's perfctl then finishes its results and exits 1.

            Examples:
              perfctl cancel latest
              perfctl cancel 20261123-171427-llama2_7b --cluster lab/cluster.yaml
            """
    )

    @OptionGroup var options: ClusterOptions

    @Argument(help: "The run id (its folder under the results directory), or `latest`.")
    var run: String

    func run() async throws {
        let (fleet, runID) = try await reportingUserErrors {
            let cluster = try ConfigLoader.loadCluster(file: options.cluster)
            let results = options.results.map { FilePaths.resolve($0, against: FileManager.default.currentDirectoryPath) }
                ?? cluster.resultsDirectory
            let runID = try RunLogs(results: results, run: run).runID
            return (AgentFleet(cluster: cluster, localAgent: try AgentExecutable.locate()), runID)
        }
        let user = ProcessInfo.processInfo.environment["USER"] ?? "a user"
        let reports = await fleet.cancel(runID: runID, reason: "perfctl cancel by \(user)")
        print("run \(runID):")
        try AgentReportPrinter.print(reports) { report in
            guard let report else { return "no agent daemon runs" }
            guard !report.stoppedRounds.isEmpty else { return "nothing of this run was running" }
            return "stopped \(report.ranksStopped) rank(s) of " + report.stoppedRounds.map { "round \($0.round)" }.joined(separator: ", ")
        }
    }
}
