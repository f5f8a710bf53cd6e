import ArgumentParser
import Foundation
import Glibc
import Logging
import PerfAgent
import PerfCore
import PerfWire
import SystemPackage

@main
struct PerfAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf-agent",
        abstract: "The perfctl node agent: runs a benchmark's ranks on this node for the controller.",
        discussion: """
            perfctl starts and talks to perf-agent itself; you rarely run it by hand.

            Examples:
              perf-agent serve --stdio --root ~/.perf-agent   # one session on stdin/stdout
              perf-agent version
            """,
        version: PerfVersion.string,
        subcommands: [Serve.self, Version.self]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve one controller session on stdin/stdout (the agent protocol, framed JSON).",
        discussion: """
            Rank logs and the node's round directories go under ROOT/runs/<run-id>/. When the \
            controller disconnects, running rounds finish and their logs stay on disk.

            Example:
              perf-agent serve --stdio --root /tmp/agent-root
            """
    )

    @Flag(help: "Talk the agent protocol on stdin/stdout (the only mode in this version).")
    var stdio = false

    @Option(help: "Directory for the agent's state and run directories ('~' expands to $HOME).")
    var root = "~/.perf-agent"

    func validate() throws {
        guard stdio else {
            throw ValidationError("pass --stdio: this perf-agent serves one session over stdin/stdout")
        }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "perf-agent")
        let channel = AgentChannel(input: .standardInput, output: .standardOutput)
        let session = AgentSession(channel: channel, root: FilePaths.expandingHome(root), logger: logger)
        await session.run()
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the agent's version and protocol version.",
        discussion: "Example:\n  perf-agent version"
    )

    func run() {
        print("perf-agent \(PerfVersion.string) (agent protocol \(WireProtocol.version))")
    }
}
