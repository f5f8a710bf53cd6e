import ArgumentParser
import Foundation
import PerfController
import PerfCore
import PerfWire

/// `perfctl agent …`: the perf-agent daemons of every host in the cluster file.
struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install, inspect and stop the perf-agent daemon on every host.",
        discussion: """
            Remote hosts run the agent that `perfctl agent install` put under their agent root \
            (<agent_root>/bin/perf-agent); local hosts run the perf-agent beside perfctl. Every \
            host is handled in parallel and gets its own line; the exit status is 1 when any \
            host failed.

            Examples:
              perfctl agent install --cluster lab/cluster.yaml
              perfctl agent status
              perfctl agent stop --force
            """,
        subcommands: [Install.self, Status.self, Stop.self]
    )

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy this perfctl's perf-agent to every host (SHA-256 checked) and start it.",
            discussion: """
                Skips the copy where the same build is there already. A running daemon of another \
                build is stopped and replaced when it runs no round (with --force, even then).

                Example:
                  perfctl agent install --cluster lab/cluster.yaml
                """
        )
        @OptionGroup var options: ClusterOptions
        @Flag(help: "Replace a daemon of another build even while it runs rounds (their ranks are stopped).")
        var force = false

        func run() async throws {
            let fleet = try await AgentFleetLoader.load(options)
            let reports = await fleet.install(force: force)
            try AgentReportPrinter.print(reports) { report in
                var line = "perf-agent \(report.status.agentVersion) (protocol \(report.status.protocolVersion)) pid \(report.status.pid), "
                line += report.uploadedBytes > 0
                    ? "copied \(String(format: "%.1f", Double(report.uploadedBytes) / 1_048_576)) MiB to \(report.path)"
                    : "\(report.path) already current"
                if report.replacedDaemon { line += ", replaced the daemon of another build" }
                return line
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every host's agent daemon: version, pid, uptime, running rounds.",
            discussion: "Exit status 1 when a host cannot be reached or runs no daemon.\n\nExample:\n  perfctl agent status"
        )
        @OptionGroup var options: ClusterOptions

        func run() async throws {
            let fleet = try await AgentFleetLoader.load(options)
            let reports = await fleet.status()
            let now = Timestamp.nanosecondsSinceEpoch()
            try AgentReportPrinter.print(reports, countsAsFailure: { $0 == nil }) { status in
                guard let status else { return "no daemon runs" }
                let uptime = Double(now - status.startedAtNanoseconds) / 1e9
                var line = "perf-agent \(status.agentVersion) (protocol \(status.protocolVersion)) pid \(status.pid), "
                line += "up \(AgentReportPrinter.duration(uptime)), sha256 \(status.executableSHA256.prefix(12))"
                line += status.rounds.isEmpty ? ", idle"
                    : ", running " + status.rounds.map { "\($0.key) (\($0.ranksAlive) rank(s) alive)" }.joined(separator: ", ")
                if status.protocolVersion != WireProtocol.version {
                    line += " — protocol differs from this perfctl's \(WireProtocol.version): run `perfctl agent install`"
                }
                return line
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop every host's agent daemon.",
            discussion: """
                A daemon running rounds refuses unless --force, which stops their ranks first \
                (SIGTERM, grace, SIGKILL); their logs stay under the agent root.

                Example:
                  perfctl agent stop --force
                """
        )
        @OptionGroup var options: ClusterOptions
        @Flag(help: "Stop running rounds' ranks instead of refusing.")
        var force = false

        func run() async throws {
            let fleet = try await AgentFleetLoader.load(options)
            let reports = await fleet.stop(force: force)
            try AgentReportPrinter.print(reports) { report in
                guard let report else { return "no daemon ran" }
                return report.stoppedRounds.isEmpty ? "stopped"
                    : "stopped, with the ranks of " + report.stoppedRounds.map(\.description).joined(separator: ", ")
            }
        }
    }
}

/// Loads the cluster file and the local agent for `perfctl agent` commands.
enum AgentFleetLoader {
    static func load(_ options: ClusterOptions) async throws -> AgentFleet {
        try await reportingUserErrors {
            AgentFleet(cluster: try ConfigLoader.loadCluster(file: options.cluster), localAgent: try AgentExecutable.locate())
        }
    }
}

/// One line per host: `HOST (ADDRESS)  what happened`, failures to stderr with their fix.
enum AgentReportPrinter {
    static func print<Value>(
        _ reports: [HostReport<Value>], countsAsFailure: (Value) -> Bool = { _ in false },
        describe: (Value) -> String
    ) throws {
        var failed = false
        let width = reports.map { $0.host.name.count + $0.host.address.count + 3 }.max() ?? 0
        for report in reports {
            let label = "\(report.host.name) (\(report.host.address))".padding(toLength: width, withPad: " ", startingAt: 0)
            switch report.result {
            case .success(let value):
                Swift.print("\(label)  \(describe(value))")
                if countsAsFailure(value) { failed = true }
            case .failure(let error):
                failed = true
                Swift.print("\(label)  FAILED")
                printError(error.description)
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 120 { return "\(Int(seconds)) s" }
        if seconds < 7200 { return "\(Int(seconds / 60)) min" }
        return String(format: "%.1f h", seconds / 3600)
    }
}
