import ArgumentParser
import Glibc
import PerfCore

@main
struct PerfctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perfctl",
        abstract: "Run AI benchmark cases on a cluster and get numbers you can trust and compare.",
        discussion: """
            perfctl reads cluster.yaml (hosts, vendor), the case (cases/<name>/case.yaml) and the \
            vendor (vendors/<name>/vendor.yaml), starts a perf-agent on every node, runs every \
            round, and writes results/<run-id>/ with per-round results, statistics and a summary.

            Examples:
              perfctl run cases/llama2_7b           # localhost, vendor cpu, preset tiny
              perfctl run cases/llama2_7b --preset tiny --rounds 2
              perfctl plan cases/llama2_7b          # what would run where
              perfctl preflight cases/llama2_7b     # can every node run it?
              perfctl validate                      # check every config file
              perfctl logs latest --follow          # the ranks' output, live
              perfctl agent install                 # deploy perf-agent to every host
            """,
        version: PerfVersion.string,
        subcommands: [Run.self, Plan.self, Preflight.self, Validate.self, Cancel.self, Logs.self, Agent.self]
    )

    /// Parses and runs the command. SIGPIPE is ignored: an agent link whose peer went away
    /// fails its write with EPIPE and is reported, instead of killing perfctl.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
