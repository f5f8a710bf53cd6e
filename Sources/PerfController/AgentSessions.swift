import Foundation
import PerfCore
import PerfSSH
import PerfWire

/// A controller session with one host's agent, greeted.
struct ConnectedAgent: Sendable {
    let endpoint: AgentEndpoint
    let link: NodeLink
    let hello: AgentHello
    /// The host's clock against the controller's, measured right after hello (`ClockProbe`).
    var clock: ClockOffset? = nil
}

/// The step of reaching an agent that failed, named in the host's error.
enum AgentStep: String {
    case connect = "SSH login"
    case start = "starting perf-agent"
    case hello = "agent hello"
    case clock = "clock probe"
    case preflight = "preflight"
}

/// Opens sessions with host agents: SSH login (or a local pipe), `perf-agent dial`,
/// hello with the protocol check. Every failure names the host, the step and the cause.
struct AgentSessionOpener: Sendable {
    /// Start the daemon where none runs (`run`, `install`), or only talk to running ones (`status`, `stop`).
    var startDaemon = true
    var connectTimeout: Duration = .seconds(10)
    /// Sessions that run rounds declare a node silent this long lost (heartbeats); nil: never.
    var silenceLimit: Duration?

    /// Opens a session with `endpoint`'s agent as node `node`; log chunks go into `runDirectory`.
    func open(
        _ endpoint: AgentEndpoint, node: NodePlan, runDirectory: String? = nil, stderrPath: String? = nil,
        onEvent: @escaping @Sendable (NodeEvent) -> Void = { _ in }
    ) async throws -> ConnectedAgent {
        let link: any AgentLink
        if endpoint.host.isLocal {
            let transport = LocalAgentTransport(
                endpoint: endpoint, startDaemon: startDaemon, stderrPath: stderrPath ?? "/dev/null")
            link = try await Self.step(.start, endpoint) { () throws(UserError) in try transport.open() }
        } else {
            let connection = try await Self.step(.connect, endpoint) { () async throws(UserError) in
                try await SSHLogin.connect(endpoint.host, timeout: connectTimeout)
            }
            let transport = SSHAgentTransport(endpoint: endpoint, startDaemon: startDaemon, stderrPath: stderrPath)
            do {
                link = try await transport.open(over: connection)
            } catch {
                await connection.close()
                throw Self.failure(error, step: .start, endpoint)
            }
        }
        let nodeLink = NodeLink(
            node: node, channel: link, collector: runDirectory.map(LogCollector.init), silenceLimit: silenceLimit,
            onEvent: onEvent)
        await nodeLink.startReading()
        do {
            let hello = try await nodeLink.greet()
            if endpoint.host.isLocal, startDaemon, try await replacedStaleLocalDaemon(nodeLink, endpoint) {
                return try await open(endpoint, node: node, runDirectory: runDirectory, stderrPath: stderrPath, onEvent: onEvent)
            }
            return ConnectedAgent(endpoint: endpoint, link: nodeLink, hello: hello)
        } catch let error as AgentNotRunning {
            await nodeLink.close()
            throw error
        } catch let error as UserError {
            let step: AgentStep = await nodeLink.heardFromAgent ? .hello : .start
            await nodeLink.close()
            throw Self.failure(error, step: step, endpoint)
        }
    }

    /// A local daemon started from an older build of the perf-agent beside perfctl (it
    /// was rebuilt since) is stopped when idle, so the next session starts the current one.
    private func replacedStaleLocalDaemon(_ link: NodeLink, _ endpoint: AgentEndpoint) async throws -> Bool {
        let status = try await link.status()
        let current = URL(fileURLWithPath: endpoint.localAgent).resolvingSymlinksInPath().path
        guard status.executable != current, status.rounds.isEmpty else { return false }
        _ = try await link.shutdown(cancelRunning: false)
        await link.close()
        try await Self.waitUntilStopped(endpoint, within: .seconds(15))
        return true
    }

    /// Returns once no daemon answers on `endpoint` (after it accepted a shutdown); throws after `timeout`.
    static func waitUntilStopped(_ endpoint: AgentEndpoint, within timeout: Duration) async throws(UserError) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            do {
                let still = try await AgentSessionOpener(startDaemon: false).open(endpoint, node: .unplanned(endpoint, index: 0))
                await still.link.close()
                try? await Task.sleep(for: .milliseconds(100))
            } catch is AgentNotRunning {
                return
            } catch let error as UserError {
                throw error
            } catch {
                throw failure(UserError("\(error)"), step: .start, endpoint)
            }
        }
        throw UserError(
            "the agent daemon accepted the stop but still answers after \(timeout)", at: endpoint.location,
            fix: "see agent.log under \(endpoint.root)/hosts/ on the host, or stop it with `perfctl agent stop --force`")
    }

    /// `error` as the host's failure at `step`.
    static func failure(_ error: UserError, step: AgentStep, _ endpoint: AgentEndpoint) -> UserError {
        UserError("\(step.rawValue): \(error.message)", at: "\(endpoint.location) (\(endpoint.host.address))", fix: error.fix)
    }

    private static func step<T>(
        _ step: AgentStep, _ endpoint: AgentEndpoint, _ body: () async throws(UserError) -> T
    ) async throws(UserError) -> T {
        do {
            return try await body()
        } catch {
            throw failure(error, step: step, endpoint)
        }
    }
}

/// A placeholder node for sessions outside a run (status, stop, install).
extension NodePlan {
    static func unplanned(_ endpoint: AgentEndpoint, index: Int) -> NodePlan {
        NodePlan(nodeRank: index, hostName: endpoint.host.name, address: endpoint.host.address,
                 isLocal: endpoint.host.isLocal, ranks: [])
    }
}
