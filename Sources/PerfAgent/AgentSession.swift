import Foundation
import Logging
import PerfCore
import PerfWire

/// One controller's session with this node's agent: answers hello, runs the
/// rounds it is asked to run, and streams their logs and outcomes back.
///
/// A round keeps running when the controller goes away: the session waits for
/// every round it started before it ends, and their files stay on disk.
public actor AgentSession {
    private let channel: AgentChannel
    private let root: String
    private let logger: Logger
    private var rounds: [RoundKey: (supervisor: RoundSupervisor, task: Task<Void, Never>)] = [:]
    private var greeted = false

    /// - Parameters:
    ///   - root: the agent's root directory; node round directories go under `<root>/runs/`.
    public init(channel: AgentChannel, root: String, logger: Logger) {
        self.channel = channel
        self.root = root
        self.logger = logger
    }

    /// Serves the controller until it says goodbye or disconnects, then waits for running rounds.
    public func run() async {
        do {
            loop: for try await message in channel.incoming {
                switch message {
                case .hello(let hello):
                    guard answer(hello) else { break loop }
                case .startRound(let start):
                    begin(start)
                case .cancelRound(let cancel):
                    await rounds[cancel.key]?.supervisor.stopAll(reason: "cancelled: \(cancel.reason)")
                case .preflight(let request):
                    guard greeted else { reply(.failure(AgentFailure(message: "preflight before hello", fix: "send hello first"))); continue }
                    reply(.preflightReport(await NodePreflight.run(request, root: root)))
                case .status, .shutdown:
                    reply(.failure(AgentFailure(message: "this agent serves one session on stdin/stdout; it has no daemon state")))
                case .goodbye:
                    break loop
                }
            }
        } catch {
            logger.warning("controller link failed: \(error); running rounds continue")
        }
        for round in rounds.values { await round.task.value }
        channel.closeOutput()
    }

    private func answer(_ hello: ControllerHello) -> Bool {
        guard hello.protocolVersion == WireProtocol.version else {
            reply(.failure(AgentFailure(
                message: "perf-agent \(PerfVersion.string) speaks agent protocol \(WireProtocol.version), the controller speaks \(hello.protocolVersion)",
                fix: "install the perf-agent built with this perfctl (the two ship together)")))
            return false
        }
        greeted = true
        reply(.hello(AgentHello(
            agentVersion: PerfVersion.string, hostname: ProcessInfo.processInfo.hostName,
            pid: ProcessInfo.processInfo.processIdentifier, agentClockNanoseconds: Timestamp.nanosecondsSinceEpoch(),
            runtimes: [.process])))
        return true
    }

    private func begin(_ start: StartRound) {
        guard greeted else {
            reply(.failure(AgentFailure(key: start.key, message: "startRound before hello", fix: "send hello first")))
            return
        }
        guard start.runtime == .process else {
            reply(.failure(AgentFailure(
                key: start.key,
                message: "perf-agent \(PerfVersion.string) cannot start ranks with runtime '\(start.runtime.rawValue)' yet; it runs plain processes",
                fix: "use a vendor whose vendor.yaml says `runtime: process` (e.g. vendors/cpu)")))
            return
        }
        guard rounds[start.key] == nil else {
            reply(.failure(AgentFailure(key: start.key, message: "round \(start.key) is already running on this node")))
            return
        }
        let directory = [root, "runs", start.key.runID, start.key.caseName, "round\(start.key.round)", "noderank\(start.nodeRank)"]
            .joined(separator: "/")
        let channel = self.channel
        let send: @Sendable (AgentMessage) -> Void = { message in try? channel.send(message) }
        let supervisor: RoundSupervisor
        do {
            supervisor = try RoundSupervisor(start: start, directory: directory, send: send, logger: logger)
        } catch {
            reply(.failure(AgentFailure(
                key: start.key, message: "cannot create the round directory \(directory): \(error)",
                fix: "check that the agent root \(root) is writable")))
            return
        }
        let task = Task {
            let finished = await supervisor.run()
            send(.roundFinished(finished))
        }
        rounds[start.key] = (supervisor, task)
    }

    private func reply(_ message: AgentMessage) {
        do {
            try channel.send(message)
        } catch {
            logger.warning("cannot reach the controller: \(error)")
        }
    }
}
