import Foundation
import PerfCore
import PerfWire

/// Something that happened on a node during a run, for progress output.
public enum NodeEvent: Sendable {
    case rankStarted(host: String, rank: Int, pid: Int32)
    case rankEnded(host: String, exit: RankExit)
}

/// The controller's side of one node's agent session: sends requests, and
/// routes what the agent streams back (log chunks to the collector, round
/// outcomes to whoever waits for them).
actor NodeLink {
    let node: NodePlan
    private let channel: any AgentLink
    /// Where log chunks go; `nil` for sessions that run no rounds (status, stop).
    private let collector: LogCollector?
    private let onEvent: @Sendable (NodeEvent) -> Void
    /// The one request waiting for its answer (hello, preflight, status, shutdown).
    private var replyWaiter: CheckedContinuation<AgentMessage, any Error>?
    private var roundWaiters: [RoundKey: CheckedContinuation<RoundFinished, any Error>] = [:]
    private var closedBecause: (any Error)?
    /// Whether the agent has sent anything yet; a link that closes before is an agent that did not start.
    private(set) var heardFromAgent = false
    /// A node silent this long (no heartbeat, no message) is declared lost; nil: never.
    private let silenceLimit: Duration?
    private var lastHeard = ContinuousClock.now
    private var watchdog: Task<Void, Never>?

    init(
        node: NodePlan, channel: any AgentLink, collector: LogCollector?, silenceLimit: Duration? = nil,
        onEvent: @escaping @Sendable (NodeEvent) -> Void = { _ in }
    ) {
        self.node = node
        self.channel = channel
        self.collector = collector
        self.silenceLimit = silenceLimit
        self.onEvent = onEvent
    }

    /// Seconds between the heartbeats asked of the agent: five per silence limit.
    private var heartbeatSeconds: Double? {
        silenceLimit.map { max(Double($0.components.seconds) / 5, 0.2) }
    }

    private var location: String { "host \(node.hostName)" }

    /// Starts routing incoming messages, and the silence watchdog; call once.
    func startReading() {
        let channel = channel
        if let limit = silenceLimit {
            watchdog = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    await self?.checkSilence(limit)
                }
            }
        }
        Task {
            do {
                for try await message in channel.incoming { self.handle(message) }
                self.linkClosed(UserError("the agent closed the connection", at: self.location,
                                          fix: "see the agent's log in the run directory (agent-\(self.node.hostName).log)"))
            } catch let error as UserError {
                self.linkClosed(UserError(error.message, at: self.location, fix: error.fix))
            } catch let error as AgentNotRunning {
                self.linkClosed(error)
            } catch {
                self.linkClosed(UserError("the agent link broke: \(error)", at: self.location,
                                          fix: "see the agent's log in the run directory (agent-\(self.node.hostName).log)"))
            }
        }
    }

    /// Says hello; the agent refuses a controller of another protocol version.
    func greet() async throws -> AgentHello {
        let hello = ControllerHello(
            controllerVersion: PerfVersion.string, sentAtNanoseconds: Timestamp.nanosecondsSinceEpoch(),
            heartbeatSeconds: heartbeatSeconds)
        guard case .hello(let answer) = try await request(.hello(hello)) else { throw unexpectedReply("hello") }
        guard answer.protocolVersion == WireProtocol.version else {
            throw UserError(
                "perf-agent \(answer.agentVersion) speaks agent protocol \(answer.protocolVersion), this perfctl \(PerfVersion.string) speaks \(WireProtocol.version)",
                at: location, fix: "run `perfctl agent install` to deploy the perf-agent built with this perfctl")
        }
        return answer
    }

    /// Runs the node's preflight checks.
    func preflight(_ request: PreflightRequest) async throws -> PreflightReport {
        guard case .preflightReport(let report) = try await self.request(.preflight(request)) else {
            throw unexpectedReply("preflight")
        }
        return report
    }

    /// The agent daemon's state.
    func status() async throws -> AgentStatus {
        guard case .status(let status) = try await request(.status) else { throw unexpectedReply("status") }
        return status
    }

    /// Stops the agent daemon; refused with running rounds unless `cancelRunning`.
    func shutdown(cancelRunning: Bool) async throws -> ShutdownReport {
        guard case .shuttingDown(let report) = try await request(.shutdown(ShutdownRequest(cancelRunning: cancelRunning)))
        else { throw unexpectedReply("shutdown") }
        return report
    }

    /// Cancels a run on this node; returns once its rounds there have ended.
    func cancelRun(_ runID: String, reason: String) async throws -> RunCancelled {
        guard case .runCancelled(let report) = try await request(.cancelRun(CancelRun(runID: runID, reason: reason)))
        else { throw unexpectedReply("cancelRun") }
        return report
    }

    /// Reads the agent's wall clock once (see `ClockProbe`).
    func probeClock(_ probe: ClockProbeRequest) async throws -> ClockReply {
        guard case .clockReply(let reply) = try await request(.clockProbe(probe)) else { throw unexpectedReply("clockProbe") }
        return reply
    }

    private func request(_ message: ControllerMessage) async throws -> AgentMessage {
        try ensureOpen()
        let link = channel
        let location = location
        return try await withCheckedThrowingContinuation { continuation in
            replyWaiter = continuation
            Task { await self.sendOrFail(message, over: link, location: location) }
        }
    }

    private func unexpectedReply(_ request: String) -> UserError {
        UserError("the agent answered `\(request)` with another message", at: location,
                  fix: "run `perfctl agent install` so agent and perfctl are the same build")
    }

    /// Runs a round on this node; returns when every rank there has ended and every log byte arrived.
    func runRound(_ start: StartRound) async throws -> RoundFinished {
        try ensureOpen()
        let link = channel
        let location = location
        return try await withCheckedThrowingContinuation { continuation in
            roundWaiters[start.key] = continuation
            Task { await self.sendOrFail(.startRound(start), over: link, location: location) }
        }
    }

    /// Asks the agent to stop the round's ranks.
    func cancel(_ key: RoundKey, reason: String) async {
        try? await channel.send(.cancelRound(CancelRound(key: key, reason: reason)))
    }

    /// Ends the session politely; the agent exits when its rounds are done.
    func close() async {
        watchdog?.cancel()
        try? await channel.send(.goodbye)
        await channel.close()
    }

    private func ensureOpen() throws {
        if let closedBecause { throw closedBecause }
    }

    private func sendOrFail(_ message: ControllerMessage, over link: any AgentLink, location: String) async {
        do {
            try await link.send(message)
        } catch {
            linkClosed(UserError("cannot send to the agent: \(error)", at: location,
                                 fix: "see the agent's log in the run directory (agent-\(node.hostName).log)"))
        }
    }

    /// Declares the node lost when nothing came for `limit` after hello: its waiters fail
    /// naming the silence, and the link is closed in the background.
    private func checkSilence(_ limit: Duration) {
        guard heardFromAgent, closedBecause == nil, ContinuousClock.now - lastHeard > limit else { return }
        linkClosed(UserError(
            "the agent stopped answering: nothing for \(limit.components.seconds) s (heartbeats every \(heartbeatSeconds.map { String(format: "%.1f", $0) } ?? "?") s)",
            at: location,
            fix: "check the host and the network path to it; raise `heartbeat_timeout` in cluster.yaml for slow links"))
        let channel = channel
        Task { await channel.close() }
    }

    private func handle(_ message: AgentMessage) {
        heardFromAgent = true
        lastHeard = .now
        switch message {
        case .heartbeat:
            break
        case .hello, .preflightReport, .status, .shuttingDown, .runCancelled, .clockReply:
            replyWaiter?.resume(returning: message)
            replyWaiter = nil
        case .rankStarted(let started):
            onEvent(.rankStarted(host: node.hostName, rank: started.rank, pid: started.pid))
        case .rankEnded(let ended):
            onEvent(.rankEnded(host: node.hostName, exit: ended.exit))
        case .logChunk(let chunk):
            do {
                try collector?.write(chunk, node: node)
            } catch {
                fail(chunk.key, with: error)
            }
        case .roundFinished(let finished):
            collector?.closeAll()
            roundWaiters.removeValue(forKey: finished.key)?.resume(returning: finished)
        case .failure(let failure):
            let error = UserError(failure.message, at: location, fix: failure.fix)
            if let key = failure.key {
                fail(key, with: error)
            } else {
                replyWaiter?.resume(throwing: error)
                replyWaiter = nil
            }
        }
    }

    private func fail(_ key: RoundKey, with error: UserError) {
        roundWaiters.removeValue(forKey: key)?.resume(throwing: error)
    }

    private func linkClosed(_ error: any Error) {
        watchdog?.cancel()
        if closedBecause == nil { closedBecause = error }
        replyWaiter?.resume(throwing: error)
        replyWaiter = nil
        for waiter in roundWaiters.values { waiter.resume(throwing: error) }
        roundWaiters.removeAll()
    }
}
