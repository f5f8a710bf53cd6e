import Foundation
import PerfCore
import PerfSSH
import PerfWire

/// What `perfctl agent install` did on one host.
public struct InstallReport: Sendable {
    /// The agent the host runs now.
    public var path: String
    /// Bytes copied; 0 when the same build was there already or the host is local.
    public var uploadedBytes: Int
    /// An agent daemon of another build was stopped for the new one.
    public var replacedDaemon: Bool
    /// The daemon's state after the install.
    public var status: AgentStatus
}

/// The agents of every host in a cluster file: install, status, stop. Hosts are
/// handled in parallel and each gets its own outcome.
public struct AgentFleet: Sendable {
    private let endpoints: [AgentEndpoint]
    /// Seconds to wait for a stopped daemon to be gone.
    private let stopTimeout: Duration = .seconds(15)

    /// - Parameter localAgent: the perf-agent beside perfctl: uploaded to remote hosts, run on local ones.
    public init(cluster: ClusterConfig, localAgent: String) {
        endpoints = AgentEndpoint.all(in: cluster, localAgent: localAgent)
    }

    /// The state of every host's agent daemon; `nil` where none runs.
    public func status() async -> [HostReport<AgentStatus?>] {
        await forEachHost { endpoint, index throws(UserError) in try await Self.status(of: endpoint, index: index) }
    }

    /// Stops every host's daemon; `force` stops running rounds' ranks first. `nil` where none ran.
    public func stop(force: Bool) async -> [HostReport<ShutdownReport?>] {
        await forEachHost { endpoint, index throws(UserError) in
            try await Self.stop(endpoint, index: index, force: force, waitUpTo: stopTimeout)
        }
    }

    /// Cancels run `runID` on every host: its running ranks are stopped (TERM, grace,
    /// KILL) and its later rounds refused. `nil` where no daemon runs.
    public func cancel(runID: String, reason: String) async -> [HostReport<RunCancelled?>] {
        await forEachHost { endpoint, index throws(UserError) in
            guard let agent = try await Self.session(endpoint, index: index, start: false) else { return nil }
            return try await Self.request(agent) { try await $0.cancelRun(runID, reason: reason) }
        }
    }

    /// Puts this perfctl's agent on every host (checksum-verified), replaces a daemon of
    /// another build (`force`: even one running rounds) and starts it.
    public func install(force: Bool) async -> [HostReport<InstallReport>] {
        let binary: [UInt8]
        let digest: String
        do {
            binary = try Array(Data(contentsOf: URL(fileURLWithPath: endpoints.first?.localAgent ?? "")))
            digest = FileDigest.sha256Hex(of: binary)
        } catch {
            let failure = UserError(
                "cannot read \(endpoints.first?.localAgent ?? "perf-agent"): \(error)",
                fix: "build it with `swift build -c release` (perf-agent sits beside perfctl)")
            return endpoints.map { HostReport(host: $0.host, result: .failure(failure)) }
        }
        let stopTimeout = stopTimeout
        return await forEachHost { endpoint, index throws(UserError) in
            let uploaded = endpoint.host.isLocal
                ? 0 : try await AgentUpload(endpoint: endpoint, binary: binary, digest: digest).run()
            let (status, replaced) = try await Self.ensureDaemon(
                endpoint, index: index, digest: digest, force: force, stopTimeout: stopTimeout)
            return InstallReport(path: endpoint.agentPath, uploadedBytes: uploaded, replacedDaemon: replaced, status: status)
        }
    }

    private func forEachHost<Value: Sendable>(
        _ body: @escaping @Sendable (AgentEndpoint, Int) async throws(UserError) -> Value
    ) async -> [HostReport<Value>] {
        await FanOut.map(Array(endpoints.enumerated())) { index, endpoint in
            do {
                return HostReport(host: endpoint.host, result: .success(try await body(endpoint, index)))
            } catch let error as UserError {
                return HostReport(host: endpoint.host, result: .failure(error))
            } catch {
                return HostReport(host: endpoint.host, result: .failure(UserError("\(error)", at: endpoint.location)))
            }
        }
    }

    private static func session(
        _ endpoint: AgentEndpoint, index: Int, start: Bool
    ) async throws(UserError) -> ConnectedAgent? {
        do {
            return try await AgentSessionOpener(startDaemon: start).open(endpoint, node: .unplanned(endpoint, index: index))
        } catch is AgentNotRunning {
            return nil
        } catch let error as UserError {
            throw error
        } catch {
            throw AgentSessionOpener.failure(UserError("\(error)"), step: .start, endpoint)
        }
    }

    private static func request<Value>(
        _ agent: ConnectedAgent, _ body: (NodeLink) async throws -> Value
    ) async throws(UserError) -> Value {
        let outcome: Result<Value, UserError>
        do {
            outcome = .success(try await body(agent.link))
        } catch let error as UserError {
            outcome = .failure(UserError(
                error.message, at: "\(agent.endpoint.location) (\(agent.endpoint.host.address))", fix: error.fix))
        } catch {
            outcome = .failure(UserError("\(error)", at: agent.endpoint.location))
        }
        await agent.link.close()
        return try outcome.get()
    }

    private static func status(of endpoint: AgentEndpoint, index: Int) async throws(UserError) -> AgentStatus? {
        guard let agent = try await session(endpoint, index: index, start: false) else { return nil }
        return try await request(agent) { try await $0.status() }
    }

    private static func stop(
        _ endpoint: AgentEndpoint, index: Int, force: Bool, waitUpTo timeout: Duration
    ) async throws(UserError) -> ShutdownReport? {
        guard let agent = try await session(endpoint, index: index, start: false) else { return nil }
        let report = try await request(agent) { try await $0.shutdown(cancelRunning: force) }
        try await AgentSessionOpener.waitUntilStopped(endpoint, within: timeout)
        return report
    }

    /// Makes sure the host's daemon is the build with `digest`: keeps it, or stops the
    /// old one and starts the new one. Returns its status and whether one was replaced.
    private static func ensureDaemon(
        _ endpoint: AgentEndpoint, index: Int, digest: String, force: Bool, stopTimeout: Duration
    ) async throws(UserError) -> (AgentStatus, replaced: Bool) {
        var replaced = false
        if let running = try await status(of: endpoint, index: index) {
            if running.executableSHA256 == digest { return (running, false) }
            if !running.rounds.isEmpty && !force {
                throw UserError(
                    "perf-agent \(running.agentVersion) (pid \(running.pid)), another build, is running "
                        + running.rounds.map(\.key.description).joined(separator: ", "),
                    at: endpoint.location,
                    fix: "wait for the run to end and install again, or `perfctl agent install --force` to stop its ranks")
            }
            _ = try await stop(endpoint, index: index, force: force, waitUpTo: stopTimeout)
            replaced = true
        }
        guard let agent = try await session(endpoint, index: index, start: true) else {
            throw UserError("perf-agent dial did not start the daemon", at: endpoint.location,
                            fix: "see agent.log under \(endpoint.root) on the host")
        }
        let status = try await request(agent) { try await $0.status() }
        guard status.executableSHA256 == digest else {
            throw UserError(
                "the daemon that answers runs \(status.executable) (sha256 \(status.executableSHA256.prefix(12))…), not the build just installed (\(digest.prefix(12))…)",
                at: endpoint.location, fix: "run `perfctl agent stop --force`, then install again")
        }
        return (status, replaced)
    }
}

/// Copies the agent binary to a remote host's agent root, checksum-verified:
/// `bin/perf-agent-<version>-<sha12>`, with `bin/perf-agent` pointing at it.
struct AgentUpload {
    let endpoint: AgentEndpoint
    let binary: [UInt8]
    let digest: String

    /// Returns the bytes copied (0 when the same build is there already).
    func run() async throws(UserError) -> Int {
        let connection: SSHConnection
        do {
            connection = try await SSHLogin.connect(endpoint.host)
        } catch {
            throw AgentSessionOpener.failure(error, step: .connect, endpoint)
        }
        do {
            let copied = try await install(over: connection)
            await connection.close()
            return copied
        } catch {
            await connection.close()
            throw error
        }
    }

    private func install(over connection: SSHConnection) async throws(UserError) -> Int {
        let bin = FilePaths.join(endpoint.root, "bin")
        let name = "perf-agent-\(PerfVersion.string)-\(digest.prefix(12))"
        let target = FilePaths.join(bin, name)
        let q = ShellQuoting.quotePath
        let existing = try await shell(
            "mkdir -p \(q(bin)) && chmod 700 \(q(endpoint.root)) && { sha256sum \(q(target)) 2>/dev/null || true; }",
            on: connection, doing: "creating \(bin)")
        var copied = 0
        if !existing.hasPrefix(digest) {
            // Unique per upload: hosts that share the root (an NFS home) upload side by side.
            let partial = FilePaths.join(bin, ".\(name).\(UInt64.random(in: 0...UInt64.max)).partial")
            try await connection.upload(binary, to: Self.scpPath(partial), mode: 0o755)
            let landed = try await shell("sha256sum \(q(partial))", on: connection, doing: "checking the upload")
            guard landed.hasPrefix(digest) else {
                _ = try? await connection.run("rm -f \(q(partial))")
                throw UserError(
                    "the uploaded agent's SHA-256 is \(landed.prefix(64)), not \(digest)", at: endpoint.location,
                    fix: "check the host's disk (full?) and run `perfctl agent install` again")
            }
            _ = try await shell("mv -f \(q(partial)) \(q(target))", on: connection, doing: "installing \(target)")
            copied = binary.count
        }
        _ = try await shell(
            "ln -sfn \(ShellQuoting.quote(name)) \(q(FilePaths.join(bin, "perf-agent")))"
                + " && for old in \(q(bin))/perf-agent-*; do [ \"$old\" = \(q(target)) ] || rm -f -- \"$old\"; done",
            on: connection, doing: "linking \(bin)/perf-agent")
        return copied
    }

    /// Runs `command`; its stdout, or an error naming what was being done.
    private func shell(_ command: String, on connection: SSHConnection, doing what: String) async throws(UserError) -> String {
        let result = try await connection.run(command)
        guard result.status.code == 0 else {
            let said = String(decoding: result.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw UserError("\(what) failed (\(result.status)): \(said)", at: endpoint.location,
                            fix: "check that the user may write \(endpoint.root) on the host (cluster.yaml `agent_root`)")
        }
        return String(decoding: result.stdout, as: UTF8.self)
    }

    /// SCP paths start in the login's home directory; `~/` is not expanded there.
    static func scpPath(_ path: String) -> String {
        path.hasPrefix("~/") ? String(path.dropFirst(2)) : path
    }
}
