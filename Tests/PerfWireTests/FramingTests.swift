import Foundation
import Glibc
import PerfCore
import PerfWire
import SystemPackage
import Testing

@Suite("agent protocol: framing, messages, channels")
struct FramingTests {
    static let sample: [AgentMessage] = [
        .hello(AgentHello(agentVersion: "1", hostname: "h", pid: 7, agentClockNanoseconds: 42, runtimes: [.process])),
        .logChunk(LogChunk(key: RoundKey(runID: "r", caseName: "c", round: 2), file: "rank0.out.log", offset: 10,
                           data: Data([0, 1, 2, 255, 10]))),
        .rankEnded(RankEnded(key: RoundKey(runID: "r", caseName: "c", round: 2),
                             exit: RankExit(rank: 1, pid: 9, signal: 15, stopReason: "round timeout", durationSeconds: 1.5))),
        .failure(AgentFailure(message: "no", fix: "yes")),
    ]

    @Test func framesSurviveBeingSplitAtEveryByte() throws {
        let bytes = try Self.sample.flatMap { Framing.frame(Array(try JSONEncoder().encode($0))) }
        for split in 0...bytes.count {
            var decoder = FrameDecoder()
            var decoded: [AgentMessage] = []
            for piece in [bytes[0..<split], bytes[split...]] {
                decoder.append(piece)
                while let frame = try decoder.nextFrame() {
                    decoded.append(try JSONDecoder().decode(AgentMessage.self, from: Data(frame)))
                }
            }
            #expect(decoded == Self.sample, "split at \(split)")
            #expect(decoder.pendingByteCount == 0)
        }
    }

    @Test func oversizedFrameIsRejectedBeforeItIsBuffered() {
        var decoder = FrameDecoder(limit: 100)
        decoder.append([0, 0, 1, 0])
        #expect(throws: OversizedFrame.self) { try decoder.nextFrame() }
    }

    @Test func everyControllerMessageRoundTrips() throws {
        let key = RoundKey(runID: "r", caseName: "c", round: 1)
        let messages: [ControllerMessage] = [
            .hello(ControllerHello(controllerVersion: "x", sentAtNanoseconds: 1)),
            .startRound(StartRound(
                key: key, nodeRank: 1, runtime: .process,
                ranks: [RankLaunch(rank: 2, localRank: 0, argv: ["a b", "'q'"], workingDirectory: "/w", environment: ["K": "V"])],
                timeoutSeconds: 5, killGraceSeconds: 1)),
            .cancelRound(CancelRound(key: key, reason: "user")),
            .preflight(PreflightRequest(runtime: .process, ranksOnNode: 2, deviceQuery: ["nvidia-smi", "-L"], firstRank: nil)),
            .status,
            .shutdown(ShutdownRequest(cancelRunning: true)),
            .cancelRun(CancelRun(runID: "r", reason: "perfctl cancel")),
            .goodbye,
        ]
        for message in messages {
            let data = try JSONEncoder().encode(message)
            #expect(try JSONDecoder().decode(ControllerMessage.self, from: data) == message)
        }
    }

    @Test func agentRepliesRoundTrip() throws {
        let key = RoundKey(runID: "r", caseName: "c", round: 1)
        let messages: [AgentMessage] = [
            .preflightReport(PreflightReport(checks: [PreflightCheck(name: "devices", outcome: .failed, detail: "1 < 2", fix: "f")])),
            .status(AgentStatus(
                agentVersion: "1", pid: 7, executable: "/a", executableSHA256: "ab", root: "/r", startedAtNanoseconds: 3,
                sessions: 1, rounds: [RunningRound(key: key, nodeRank: 0, ranksAlive: 2, startedAtNanoseconds: 4)])),
            .shuttingDown(ShutdownReport(stoppedRounds: [key])),
            .runCancelled(RunCancelled(runID: "r", stoppedRounds: [key], ranksStopped: 2)),
            .heartbeat(Heartbeat(agentClockNanoseconds: 5)),
            .roundFinished(RoundFinished(key: key, exits: [], nodeDirectory: "/d", files: ["a": 1], runCancelled: "user")),
        ]
        for message in messages {
            let data = try JSONEncoder().encode(message)
            #expect(try JSONDecoder().decode(AgentMessage.self, from: data) == message)
        }
    }

    @Test func unknownMessageTypeIsAnErrorNotACrash() {
        let data = Data(#"{"type":"explode","body":{}}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AgentMessage.self, from: data) }
    }

    @Test func channelsCarryMessagesBothWaysOverRealPipes() async throws {
        let aToB = try FileDescriptor.pipe()
        let bToA = try FileDescriptor.pipe()
        let a = ControllerChannel(input: bToA.readEnd, output: aToB.writeEnd)
        let b = AgentChannel(input: aToB.readEnd, output: bToA.writeEnd)
        try a.send(.goodbye)
        var iterator = b.incoming.makeAsyncIterator()
        #expect(try await iterator.next() == .goodbye)
        for message in Self.sample { try b.send(message) }
        b.closeOutput()
        var received: [AgentMessage] = []
        for try await message in a.incoming { received.append(message) }
        #expect(received == Self.sample)
        a.closeOutput()
        #expect(try await iterator.next() == nil)
    }

    @Test func socketChannelClosingItsOutputStillReadsThePeersAnswer() async throws {
        var ends: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0)
        let controller = try ControllerChannel(socket: FileDescriptor(rawValue: ends[0]))
        let agent = try AgentChannel(socket: FileDescriptor(rawValue: ends[1]))
        try controller.send(.status)
        controller.closeOutput()
        var requests: [ControllerMessage] = []
        for try await message in agent.incoming { requests.append(message) }
        #expect(requests == [.status])
        for message in Self.sample { try agent.send(message) }
        agent.closeOutput()
        var received: [AgentMessage] = []
        for try await message in controller.incoming { received.append(message) }
        #expect(received == Self.sample)
    }

    @Test func streamCutInsideAFrameIsReportedAsBroken() async throws {
        let pipe = try FileDescriptor.pipe()
        let channel = ControllerChannel(input: pipe.readEnd, output: try FileDescriptor.open("/dev/null", .writeOnly))
        _ = try pipe.writeEnd.writeAll([0, 0, 0, 50, 1, 2, 3])
        try pipe.writeEnd.close()
        await #expect(throws: ChannelError.self) {
            for try await _ in channel.incoming {}
        }
    }
}
