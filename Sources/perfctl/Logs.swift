import ArgumentParser
import Foundation
import Glibc
import PerfController
import PerfCore

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the rank logs of a run, or follow them while it runs.",
        discussion: """
            Reads <results>/<run>/<case>/round<k>/<host>_noderank<n>/rank<R>.out.log, which the \
            controller writes as the agents stream them, so a run in progress shows its lines as \
            they come. Each line is prefixed with its host and rank (`pc1/rank 3 | `), and its round \
            when several rounds are shown (`r2 pc1/rank 3 | `); the prefix has a colour per rank \
            on a terminal (not with NO_COLOR set). Without --follow the files are printed one \
            after the other. --tail N keeps each file's last N (matching) lines. --grep matches \
            a plain substring; written /…/ it is a regular expression. Options may repeat \
            (--rank 0 --rank 1). --follow keeps printing as the files grow and exits 0 once \
            run.json says the run ended and no file grew for a second. Exit status: 0, or 2 for \
            an unknown run (the recent ones are listed) or a bad expression.

            Examples:
              perfctl logs                                  # the latest run, every rank
              perfctl logs latest --follow                  # live, until the run ends
              perfctl logs 20261123-140000-llama2_7b --host pc1 --rank 3 --round 2
              perfctl logs --tail 20 --grep FINISHED
              perfctl logs --grep '/loss [0-9]+\\.[0-9]/'
            """
    )

    @OptionGroup var options: ClusterOptions

    @Argument(help: "The run: its id (a folder under the results directory), `latest`, or a run folder's path.")
    var run = "latest"

    @Flag(help: "Keep printing lines as they are written, until the run ends.")
    var follow = false

    @Option(help: ArgumentHelp("Only this host's logs (its name in cluster.yaml).", valueName: "host"))
    var host: [String] = []

    @Option(help: ArgumentHelp("Only this global rank's log.", valueName: "rank"))
    var rank: [Int] = []

    @Option(help: ArgumentHelp("Only this round.", valueName: "k"))
    var round: [Int] = []

    @Option(help: ArgumentHelp("Only the last N lines of each log (with --follow: of what exists when it starts).", valueName: "N"))
    var tail: Int?

    @Option(help: ArgumentHelp("Only lines containing this text; /regex/ for a regular expression.", valueName: "pattern"))
    var grep: String?

    @Flag(name: .customLong("agent"), help: "Show each node's agent.log too (not with --rank).")
    var agentLogs = false

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more") }
    }

    func run() async throws {
        let (logs, matcher) = try await reportingUserErrors { () async throws -> (RunLogs, RunLogMatcher) in
            let results: String
            if let override = options.results {
                results = override
            } else {
                results = try ConfigLoader.loadCluster(file: options.cluster).resultsDirectory
            }
            return (try RunLogs(results: results, run: run), try RunLogMatcher(grep))
        }
        let filter = RunLogFilter(hosts: Set(host), ranks: Set(rank), rounds: Set(round), agentLogs: agentLogs)
        let colour = RunLogFormatter.wantsColour(fd: STDOUT_FILENO, environment: ProcessInfo.processInfo.environment)
        let output = LogOutput()
        if follow {
            let planned = logs.plannedRounds() ?? 1
            let showRound = round.count > 1 || (round.isEmpty && planned > 1)
            await logs.follow(filter, matcher: matcher, tail: tail,
                              formatter: RunLogFormatter(showRound: showRound, colour: colour), output: output)
        } else {
            let rounds = Set(logs.files(filter).map(\.round))
            logs.print(filter, matcher: matcher, tail: tail,
                       formatter: RunLogFormatter(showRound: rounds.count > 1, colour: colour), output: output)
        }
    }
}
