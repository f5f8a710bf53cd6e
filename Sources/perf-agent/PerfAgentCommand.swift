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
            perfctl starts and talks to perf-agent itself; you rarely run it by hand. Each node \
            runs one agent daemon per root, listening on ROOT/agent.sock. perfctl reaches it with \
            `perf-agent dial` (in an SSH exec channel, or as a local child), which joins its \
            stdin/stdout to that socket and starts the daemon when none runs. Rounds belong to \
            the daemon, so they finish even when the controller that started them goes away.

            Examples:
              perf-agent dial --root ~/.perf-agent         # start the daemon if needed, talk to it
              perf-agent serve --root ~/.perf-agent        # the daemon, in the foreground
              perf-agent serve --stdio --root /tmp/agent   # one session, no daemon
              perf-agent version
            """,
        version: PerfVersion.string,
        subcommands: [Serve.self, Dial.self, Version.self]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the agent daemon on ROOT/agent.sock, or serve one session on stdin/stdout (--stdio).",
        discussion: """
            As a daemon (without --stdio) perf-agent listens on the Unix socket ROOT/agent.sock \
            (mode 0600; ROOT is created with mode 0700 and must be yours and writable by no one \
            else) and serves every connection as its own controller session, with the agent \
            protocol (framed JSON). One daemon runs per ROOT: it holds a lock on ROOT/agent.lock, \
            and a second `serve` on the same ROOT says that one runs and exits 0. Its pid is in \
            ROOT/agent.pid, its own log goes to stderr (ROOT/agent.log when `dial` started it).

            Rounds belong to the daemon, not to the connection: when a controller disconnects, \
            its running rounds finish and their logs stay under ROOT/runs/<run-id>/. The daemon \
            stops on a shutdown message, on SIGTERM or SIGINT (running rounds are stopped: \
            SIGTERM, grace, SIGKILL), or after --idle-exit seconds without sessions and rounds, \
            and removes its socket and pid file on the way out.

            With --stdio it serves one session on stdin/stdout instead, and exits once the \
            controller is gone and its rounds have ended.

            Examples:
              perf-agent serve --root ~/.perf-agent
              perf-agent serve --root /tmp/agent --idle-exit 600
              perf-agent serve --stdio --root /tmp/agent
            """
    )

    @Flag(help: "Serve one session on stdin/stdout instead of running the daemon.")
    var stdio = false

    @Option(help: "Directory for the agent's socket, state and run directories ('~' expands to $HOME).")
    var root = "~/.perf-agent"

    @Option(help: ArgumentHelp(
        "Stop the daemon after this many seconds without sessions and running rounds (0: never).",
        valueName: "seconds"))
    var idleExit = 0

    func validate() throws {
        guard idleExit >= 0 else { throw ValidationError("--idle-exit takes a number of seconds, 0 or more") }
        guard !(stdio && idleExit > 0) else { throw ValidationError("--idle-exit applies to the daemon, not to --stdio") }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "perf-agent")
        let root = AgentRoot(self.root)
        if stdio {
            let state = AgentState(root: root.path, logger: logger)
            let channel = AgentChannel(input: .standardInput, output: .standardOutput)
            await AgentSession(channel: channel, state: state, logger: logger).run()
            await state.rounds.waitUntilEmpty()
            return
        }
        let daemon = AgentDaemon(root: root, idleExit: idleExit > 0 ? .seconds(idleExit) : nil, logger: logger)
        do {
            if case .alreadyRunning(let pid) = try await daemon.run() {
                print("a perf-agent daemon already runs under \(root.path)\(pid.map { " (pid \($0))" } ?? "")")
            }
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}

struct Dial: ParsableCommand {
    /// The daemon's idle exit when `dial` starts it and PERF_AGENT_IDLE_EXIT is not set.
    static let defaultIdleExitSeconds = 1800
    /// `dial --no-start` found no daemon.
    static let noDaemonStatus: Int32 = 3

    static let configuration = CommandConfiguration(
        abstract: "Join stdin/stdout to the agent daemon under ROOT, starting the daemon when none runs.",
        discussion: """
            The controller's way in, like `docker system dial-stdio`: perfctl runs `perf-agent \
            dial` in an SSH exec channel (or as a local child) and speaks the agent protocol over \
            its stdin/stdout, which dial copies to and from ROOT/agent.sock. At the end of stdin \
            dial shuts down the socket's sending side; it exits when the daemon closes the \
            connection. So no SSH port forwarding is needed, and the daemon outlives every \
            connection.

            When no daemon answers, dial starts one detached: `perf-agent serve --root ROOT \
            --idle-exit N` in a session of its own, stdin from /dev/null, output appended to \
            ROOT/agent.log and no other descriptor inherited, with N from PERF_AGENT_IDLE_EXIT \
            (default 1800 seconds; 0 keeps it running). Two dials racing end with one daemon.

            Exit status: 0 when the daemon closed the connection; 3 with --no-start when no \
            daemon runs; 1 on any other failure. Messages go to stderr: stdout carries only the \
            daemon's bytes.

            Examples:
              perf-agent dial --root ~/.perf-agent
              perf-agent dial --root ~/.perf-agent --no-start
              PERF_AGENT_IDLE_EXIT=600 perf-agent dial --root /tmp/agent
            """
    )

    @Option(help: "The daemon's root directory ('~' expands to $HOME).")
    var root = "~/.perf-agent"

    @Flag(help: "Do not start a daemon when none runs: exit 3 instead.")
    var noStart = false

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let root = AgentRoot(self.root)
        let idleExit = noStart ? nil : try Self.idleExitSeconds()
        let socket: FileDescriptor
        do {
            socket = try AgentDialer(root: root, startingWithIdleExit: idleExit).connect()
        } catch {
            switch error {
            case .noDaemon:
                printError("no perf-agent daemon runs under \(root.path)")
                throw ExitCode(Self.noDaemonStatus)
            case .failed(let failure):
                printError(failure.description)
                throw ExitCode(1)
            }
        }
        let status = StreamBridge.run(socket: socket)
        if status != 0 { throw ExitCode(status) }
    }

    private static func idleExitSeconds() throws -> Int {
        guard let text = ProcessInfo.processInfo.environment["PERF_AGENT_IDLE_EXIT"] else { return defaultIdleExitSeconds }
        guard let seconds = Int(text), seconds >= 0 else {
            printError("error: PERF_AGENT_IDLE_EXIT=\(text) is not a whole number of seconds\n  fix: set it to e.g. 1800, or 0 to keep the daemon running")
            throw ExitCode(1)
        }
        return seconds
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

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
