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
    private let collector: LogCollector
    private let onEvent: @Sendable (NodeEvent) -> Void
    private var helloWaiter: CheckedContinuation<AgentHello, any Error>?
    private var roundWaiters: [RoundKey: CheckedContinuation<RoundFinished, any Error>] = [:]
    private var closedBecause: UserError?

    init(node: NodePlan, channel: any AgentLink, collector: LogCollector, onEvent: @escaping @Sendable (NodeEvent) -> Void) {
        self.node = node
        self.channel = channel
        self.collector = collector
        self.onEvent = onEvent
    }

    private var location: String { "host \(node.hostName)" }

    /// Starts routing incoming messages; call once.
    func startReading() {
        let channel = channel
        Task {
            do {
                for try await message in channel.incoming { self.handle(message) }
                self.linkClosed(UserError("the agent closed the connection", at: self.location,
                                          fix: "see the agent's log in the run directory (agent-\(self.node.hostName).log)"))
            } catch let error as UserError {
                self.linkClosed(UserError(error.message, at: self.location, fix: error.fix))
            } catch {
                self.linkClosed(UserError("the agent link broke: \(error)", at: self.location,
                                          fix: "see the agent's log in the run directory (agent-\(self.node.hostName).log)"))
            }
        }
    }

    /// Says hello and checks the agent's protocol version.
    func greet() async throws -> AgentHello {
        try ensureOpen()
        let hello = ControllerHello(controllerVersion: PerfVersion.string, sentAtNanoseconds: Timestamp.nanosecondsSinceEpoch())
        let link = channel
        let location = location
        return try await withCheckedThrowingContinuation { continuation in
            helloWaiter = continuation
            Task { await self.sendOrFail(.hello(hello), over: link, location: location) }
        }
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

    private func handle(_ message: AgentMessage) {
        switch message {
        case .hello(let hello):
            helloWaiter?.resume(returning: hello)
            helloWaiter = nil
        case .rankStarted(let started):
            onEvent(.rankStarted(host: node.hostName, rank: started.rank, pid: started.pid))
        case .rankEnded(let ended):
            onEvent(.rankEnded(host: node.hostName, exit: ended.exit))
        case .logChunk(let chunk):
            do {
                try collector.write(chunk, node: node)
            } catch {
                fail(chunk.key, with: error)
            }
        case .roundFinished(let finished):
            collector.closeAll()
            roundWaiters.removeValue(forKey: finished.key)?.resume(returning: finished)
        case .failure(let failure):
            let error = UserError(failure.message, at: location, fix: failure.fix)
            if let key = failure.key {
                fail(key, with: error)
            } else {
                helloWaiter?.resume(throwing: error)
                helloWaiter = nil
            }
        }
    }

    private func fail(_ key: RoundKey, with error: UserError) {
        roundWaiters.removeValue(forKey: key)?.resume(throwing: error)
    }

    private func linkClosed(_ error: UserError) {
        if closedBecause == nil { closedBecause = error }
        helloWaiter?.resume(throwing: error)
        helloWaiter = nil
        for waiter in roundWaiters.values { waiter.resume(throwing: error) }
        roundWaiters.removeAll()
    }
}
