import Foundation
import Glibc
import Logging
import PerfAgent
import PerfCore
import PerfWire
import SystemPackage

/// An agent session in this process, talked to through real pipes as the controller
/// would, served the way `serve --stdio` serves: the session, then its rounds' ends.
final class AgentHarness: Sendable {
    let controller: ControllerChannel
    let root: String
    let session: Task<Void, Never>

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)").path
        let toAgent = try FileDescriptor.pipe()
        let fromAgent = try FileDescriptor.pipe()
        let agentChannel = AgentChannel(input: toAgent.readEnd, output: fromAgent.writeEnd)
        controller = ControllerChannel(input: fromAgent.readEnd, output: toAgent.writeEnd)
        var logger = Logger(label: "test-agent")
        logger.logLevel = .warning
        let state = AgentState(root: root, logger: logger)
        let session = AgentSession(channel: agentChannel, state: state, logger: logger)
        self.session = Task {
            await session.run()
            await state.rounds.waitUntilEmpty()
        }
    }

    /// Says hello and returns the answer.
    func greet(protocolVersion: Int = WireProtocol.version) async throws -> AgentMessage? {
        try controller.send(.hello(ControllerHello(
            protocolVersion: protocolVersion, controllerVersion: "test", sentAtNanoseconds: 0)))
        for try await message in controller.incoming { return message }
        return nil
    }

    /// Runs a round of shell-command ranks and gathers everything the agent sent until it finished.
    func runRound(
        _ commands: [String], timeout: Double = 30, grace: Double = 1, environment: [String: String] = [:],
        runtime: RuntimeKind = .process, round: Int = 1
    ) async throws -> RoundTranscript {
        let key = RoundKey(runID: "test-run", caseName: "case", round: round)
        let ranks = commands.enumerated().map { rank, command in
            RankLaunch(rank: rank, localRank: rank, argv: ["sh", "-c", command], workingDirectory: "/tmp",
                       environment: environment.merging(["RANK": String(rank)]) { $1 })
        }
        try controller.send(.startRound(StartRound(
            key: key, nodeRank: 0, runtime: runtime, ranks: ranks, timeoutSeconds: timeout, killGraceSeconds: grace)))
        var transcript = RoundTranscript()
        for try await message in controller.incoming {
            transcript.messages.append(message)
            switch message {
            case .logChunk(let chunk):
                var file = transcript.files[chunk.file, default: []]
                let end = Int(chunk.offset) + chunk.data.count
                if file.count < end { file += [UInt8](repeating: 0, count: end - file.count) }
                file.replaceSubrange(Int(chunk.offset)..<end, with: chunk.data)
                transcript.files[chunk.file] = file
            case .roundFinished(let finished):
                transcript.finished = finished
                return transcript
            case .failure(let failure):
                transcript.failure = failure
                return transcript
            default:
                continue
            }
        }
        return transcript
    }

    func close() async {
        try? controller.send(.goodbye)
        controller.closeOutput()
        await session.value
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// What the agent sent for one round.
struct RoundTranscript {
    var messages: [AgentMessage] = []
    var files: [String: [UInt8]] = [:]
    var finished: RoundFinished?
    var failure: AgentFailure?

    func text(_ file: String) -> String { String(decoding: files[file] ?? [], as: UTF8.self) }
    func exit(_ rank: Int) -> RankExit? { finished?.exits.first { $0.rank == rank } }
}

/// Whether a process with this pid is still alive (a zombie waiting for its reaper counts as gone).
func processExists(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
}
