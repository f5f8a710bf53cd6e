import Foundation
import Glibc
import PerfCore
import PerfWire
import Subprocess
import SystemPackage

/// Checks this node before a run: agent root writable, runtime present,
/// enough devices for the node's ranks, the case directory and entry program there.
enum NodePreflight {
    /// Longest a device query may take before the check fails.
    static let deviceQueryTimeout: Duration = .seconds(20)

    static func run(_ request: PreflightRequest, root: String) async -> PreflightReport {
        var checks = [rootCheck(root), runtimeCheck(request.runtime)]
        checks.append(await deviceCheck(query: request.deviceQuery, ranks: request.ranksOnNode))
        if let rank = request.firstRank { checks.append(entryCheck(rank)) }
        return PreflightReport(checks: checks)
    }

    private static func rootCheck(_ root: String) -> PreflightCheck {
        do {
            try Directories.create(FilePaths.join(root, "runs"))
        } catch {
            return PreflightCheck(
                name: "root", outcome: .failed, detail: "cannot create \(root)/runs: \(error)",
                fix: "give the agent a writable root (cluster.yaml `agent_root`)")
        }
        guard access(root + "/runs", W_OK) == 0 else {
            return PreflightCheck(
                name: "root", outcome: .failed, detail: "\(root)/runs is not writable",
                fix: "give the agent a writable root (cluster.yaml `agent_root`)")
        }
        return PreflightCheck(name: "root", outcome: .passed, detail: "\(root) is writable")
    }

    private static func runtimeCheck(_ runtime: RuntimeKind) -> PreflightCheck {
        guard runtime != .process else {
            return PreflightCheck(name: "runtime", outcome: .passed, detail: "plain processes")
        }
        let path = ProcessInfo.processInfo.environment["PATH"]
        if case .failure = ExecutableLookup.resolve(runtime.rawValue, path: path, workingDirectory: "/") {
            return PreflightCheck(
                name: "runtime", outcome: .failed, detail: "`\(runtime.rawValue)` is not installed (not in PATH=\(path ?? ""))",
                fix: "install \(runtime.rawValue) on this host, or use a vendor with `runtime: process`")
        }
        return PreflightCheck(
            name: "runtime", outcome: .failed,
            detail: "perf-agent \(PerfVersion.string) cannot start ranks in \(runtime.rawValue) containers yet",
            fix: "use a vendor whose vendor.yaml says `runtime: process` (e.g. vendors/cpu)")
    }

    private static func deviceCheck(query: [String]?, ranks: Int) async -> PreflightCheck {
        guard let query, let program = query.first else {
            let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
            if ranks > cores {
                return PreflightCheck(
                    name: "devices", outcome: .warning,
                    detail: "\(ranks) rank(s) on \(cores) online CPU core(s): ranks share cores, throughput drops")
            }
            return PreflightCheck(name: "devices", outcome: .passed, detail: "\(ranks) rank(s) on \(cores) CPU core(s)")
        }
        let shown = query.joined(separator: " ")
        switch await runQuery(program: program, arguments: Array(query.dropFirst())) {
        case .failure(let reason):
            return PreflightCheck(
                name: "devices", outcome: .failed, detail: "device query `\(shown)` failed: \(reason)",
                fix: "make `\(shown)` work on this host (driver installed?), or fix `device_query` in vendor.yaml")
        case .success(let output):
            let devices = output.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }.count
            guard devices >= ranks else {
                return PreflightCheck(
                    name: "devices", outcome: .failed,
                    detail: "\(devices) device(s) answer `\(shown)`, the node needs \(ranks) for its ranks",
                    fix: "lower nproc_per_node to \(devices) or less, or use hosts with more devices")
            }
            return PreflightCheck(name: "devices", outcome: .passed, detail: "\(devices) device(s) for \(ranks) rank(s)")
        }
    }

    private static func runQuery(program: String, arguments: [String]) async -> Result<String, QueryFailure> {
        let path = ProcessInfo.processInfo.environment["PATH"]
        let executable: String
        switch ExecutableLookup.resolve(program, path: path, workingDirectory: "/") {
        case .success(let found): executable = found
        case .failure(let failure): return .failure(QueryFailure(failure.reason))
        }
        return await withTaskGroup(of: Result<String, QueryFailure>?.self) { group in
            group.addTask {
                do {
                    let result = try await Subprocess.run(
                        .path(FilePath(executable)), arguments: Arguments(arguments),
                        output: .string(limit: 1 << 20), error: .string(limit: 1 << 16))
                    guard case .exited(0) = result.terminationStatus else {
                        let message = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
                        return .failure(QueryFailure("\(result.terminationStatus)\(message.isEmpty ? "" : ": " + message)"))
                    }
                    return .success(result.standardOutput)
                } catch {
                    return .failure(QueryFailure("cannot run it: \(error)"))
                }
            }
            group.addTask {
                try? await Task.sleep(for: deviceQueryTimeout)
                return Task.isCancelled ? nil : .failure(QueryFailure("no answer within \(deviceQueryTimeout)"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(QueryFailure("cancelled"))
        }
    }

    private static func entryCheck(_ rank: RankLaunch) -> PreflightCheck {
        var info = stat()
        guard stat(rank.workingDirectory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            return PreflightCheck(
                name: "entry", outcome: .failed, detail: "the case directory \(rank.workingDirectory) is not on this host",
                fix: "put the perfctl checkout (cases/, vendors/) at the same path on every host")
        }
        let environment = EnvironmentExpansion.expand(rank.environment, inherited: ProcessInfo.processInfo.environment)
        switch ExecutableLookup.resolve(rank.argv.first ?? "", path: environment["PATH"], workingDirectory: rank.workingDirectory) {
        case .success(let path):
            return PreflightCheck(name: "entry", outcome: .passed, detail: path)
        case .failure(let failure):
            return PreflightCheck(
                name: "entry", outcome: .failed, detail: failure.reason,
                fix: "install the case's program on this host (for the cpu vendor: scripts/setup-python.sh makes .venv)")
        }
    }
}

private struct QueryFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
