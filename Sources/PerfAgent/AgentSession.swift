import Foundation
import Logging
import PerfCore
import PerfWire

/// One controller's session with this node's agent: answers hello, status,
/// preflight and shutdown, starts the rounds it is asked to run in the agent's
/// `RoundRegistry`, and streams their logs and outcomes back.
///
/// The rounds belong to the agent, not to the session: when the controller goes
/// away, they run to their end and their files stay on disk.
public actor AgentSession {
    private let channel: AgentChannel
    private let state: AgentState
    private var logger: Logger
    private var greeted = false
    /// Sends `heartbeat`s while the session lasts, when the controller asked for them.
    private var heartbeats: Task<Void, Never>?

    public init(channel: AgentChannel, state: AgentState, logger: Logger) {
        self.channel = channel
        self.state = state
        self.logger = logger
    }

    /// Serves the controller until it says goodbye, disconnects or shuts the agent
    /// down, then closes the session's output. It does not wait for rounds.
    public func run() async {
        logger[metadataKey: "session"] = "\(await state.sessionBegan())"
        logger.info("controller connected")
        var shutDown = false
        do {
            loop: for try await message in channel.incoming {
                switch await handle(message) {
                case .serve: continue
                case .end: break loop
                case .shutDown:
                    shutDown = true
                    break loop
                }
            }
        } catch {
            logger.warning("controller link failed: \(error); running rounds continue")
        }
        heartbeats?.cancel()
        channel.closeOutput()
        await state.sessionEnded()
        logger.info("controller disconnected")
        if shutDown { await state.shutdownAnswered() }
    }

    /// What the session does after a message.
    private enum Next {
        case serve, end
        /// A shutdown was accepted and answered.
        case shutDown
    }

    private func handle(_ message: ControllerMessage) async -> Next {
        switch message {
        case .hello(let hello):
            return answer(hello) ? .serve : .end
        case .goodbye:
            return .end
        default:
            break
        }
        guard greeted else {
            reply(.failure(AgentFailure(message: "\(message.name) before hello", fix: "send hello first")))
            return .serve
        }
        switch message {
        case .hello, .goodbye:
            break  // answered above
        case .startRound(let start):
            if let failure = await state.rounds.start(start, send: roundSender()) { reply(.failure(failure)) }
        case .cancelRound(let cancel):
            await state.rounds.cancel(cancel)
        case .cancelRun(let cancel):
            reply(.runCancelled(await state.rounds.cancelRun(cancel)))
        case .preflight(let request):
            reply(.preflightReport(await NodePreflight.run(request, root: state.root)))
        case .status:
            reply(.status(await state.status()))
        case .clockProbe(let probe):
            reply(.clockReply(ClockReply(
                id: probe.id, controllerSentAtNanoseconds: probe.sentAtNanoseconds,
                agentClockNanoseconds: Timestamp.nanosecondsSinceEpoch())))
        case .shutdown(let request):
            switch await state.shutdown(request) {
            case .success(let report):
                reply(.shuttingDown(report))
                return .shutDown
            case .failure(let failure):
                reply(.failure(failure))
            }
        }
        return .serve
    }

    private func answer(_ hello: ControllerHello) -> Bool {
        guard hello.protocolVersion == WireProtocol.version else {
            reply(.failure(AgentFailure(
                message: "perf-agent \(PerfVersion.string) speaks agent protocol \(WireProtocol.version), the controller speaks \(hello.protocolVersion)",
                fix: "install the perf-agent built with this perfctl (the two ship together)")))
            return false
        }
        greeted = true
        if let seconds = hello.heartbeatSeconds, seconds > 0 {
            let channel = self.channel
            heartbeats = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(max(seconds, 0.1)))
                    try? channel.send(.heartbeat(Heartbeat(agentClockNanoseconds: Timestamp.nanosecondsSinceEpoch())))
                }
            }
        }
        reply(.hello(AgentHello(
            agentVersion: PerfVersion.string, hostname: ProcessInfo.processInfo.hostName,
            pid: ProcessInfo.processInfo.processIdentifier, agentClockNanoseconds: Timestamp.nanosecondsSinceEpoch(),
            runtimes: [.process])))
        return true
    }

    /// Where a round started by this session sends its messages: this controller,
    /// while it is connected; nowhere after.
    private func roundSender() -> @Sendable (AgentMessage) -> Void {
        let channel = self.channel
        return { message in try? channel.send(message) }
    }

    private func reply(_ message: AgentMessage) {
        do {
            try channel.send(message)
        } catch {
            logger.warning("cannot reach the controller: \(error)")
        }
    }
}

private extension ControllerMessage {
    /// The message's type as it travels.
    var name: String {
        switch self {
        case .hello: "hello"
        case .startRound: "startRound"
        case .cancelRound: "cancelRound"
        case .preflight: "preflight"
        case .status: "status"
        case .shutdown: "shutdown"
        case .cancelRun: "cancelRun"
        case .clockProbe: "clockProbe"
        case .goodbye: "goodbye"
        }
    }
}
