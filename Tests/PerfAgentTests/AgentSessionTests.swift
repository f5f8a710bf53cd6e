import Foundation
import Glibc
import PerfCore
import PerfWire
import Testing

@Suite("perf-agent session over real pipes, ranks as real processes")
struct AgentSessionTests {
    @Test func helloAnswersWithVersionsAndHostname() async throws {
        let agent = try AgentHarness()
        let reply = try await agent.greet()
        guard case .hello(let hello) = reply else { Issue.record("expected hello, got \(String(describing: reply))"); return }
        #expect(hello.protocolVersion == WireProtocol.version)
        #expect(hello.agentVersion == PerfVersion.string)
        #expect(hello.hostname == ProcessInfo.processInfo.hostName)
        #expect(abs(hello.agentClockNanoseconds - Timestamp.nanosecondsSinceEpoch()) < 5_000_000_000)
        await agent.close()
    }

    @Test func otherProtocolVersionIsRefusedWithAFix() async throws {
        let agent = try AgentHarness()
        let reply = try await agent.greet(protocolVersion: 99)
        guard case .failure(let failure) = reply else { Issue.record("expected failure, got \(String(describing: reply))"); return }
        #expect(failure.message.contains("protocol \(WireProtocol.version)"))
        #expect(failure.message.contains("99"))
        #expect(failure.fix != nil)
        await agent.close()
    }

    @Test func ranksGetPlannedEnvironmentAndTheirOutputStreamsBack() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let transcript = try await agent.runRound(
            ["echo out rank=$RANK round=$PERF_ROUND dir=$PERF_LOG_DIR home=$PERF_HOME; echo err >&2"],
            environment: ["PERF_HOME": "/opt/perf", "EXTENDED": "${PERF_HOME}/bin"], round: 4)
        let finished = try #require(transcript.finished)
        #expect(transcript.exit(0)?.exitCode == 0)
        #expect(transcript.exit(0)?.succeeded == true)
        let log = transcript.text("rank0.out.log")
        #expect(log.contains("out rank=0 round=4 dir=\(finished.nodeDirectory) home=/opt/perf"))
        #expect(log.contains("err"))
        #expect(finished.nodeDirectory.hasSuffix("runs/test-run/case/round4/noderank0"))
        #expect(finished.files["rank0.out.log"] == Int64(transcript.files["rank0.out.log"]?.count ?? -1))
        #expect(transcript.text("agent.log").contains("rank 0 exited with status 0"))
        let onDisk = try String(contentsOfFile: finished.nodeDirectory + "/rank0.out.log", encoding: .utf8)
        #expect(onDisk == log)
        await agent.close()
    }

    @Test func referencesExpandFromPlannedVariablesThenTheNodeEnvironment() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let transcript = try await agent.runRound(
            ["echo \"tool=$TOOL path=$PATH\""],
            environment: ["PERF_HOME": "/opt/perf", "TOOL": "${PERF_HOME}/bin/x", "PATH": "${PERF_HOME}/bin:${PATH}"])
        let nodePath = ProcessInfo.processInfo.environment["PATH"] ?? ""
        #expect(transcript.text("rank0.out.log").contains("tool=/opt/perf/bin/x path=/opt/perf/bin:\(nodePath)"))
        await agent.close()
    }

    @Test func failingRankStopsTheOthersAndNamesWhy() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let began = Date()
        let transcript = try await agent.runRound(["sleep 0.2; exit 3", "sleep 60"])
        #expect(Date().timeIntervalSince(began) < 10)
        #expect(transcript.exit(0)?.exitCode == 3)
        let stopped = try #require(transcript.exit(1))
        #expect(stopped.signal == SIGTERM)
        #expect(stopped.stopReason == "rank 0 exited with status 3")
        #expect(!stopped.succeeded)
        await agent.close()
    }

    @Test func roundTimeoutStopsTheWholeProcessGroup() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let transcript = try await agent.runRound(["sleep 300 & echo child=$!; wait"], timeout: 1)
        let exit = try #require(transcript.exit(0))
        #expect(exit.signal == SIGTERM)
        #expect(exit.stopReason == "round timeout after 1 s")
        let child = try #require(Self.childPID(in: transcript.text("rank0.out.log")))
        // SIGKILL went to its group as the rank ended; on a loaded machine dying takes a moment.
        try await eventually("the rank's background child \(child) is gone", timeout: 5) { !processExists(child) }
        await agent.close()
    }

    @Test func rankIgnoringSigtermIsKilledAfterTheGrace() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let began = Date()
        let transcript = try await agent.runRound(["trap '' TERM; echo ready; while true; do sleep 0.1; done"], timeout: 1, grace: 0.5)
        #expect(transcript.exit(0)?.signal == SIGKILL)
        #expect(Date().timeIntervalSince(began) < 10)
        #expect(transcript.text("agent.log").contains("SIGKILL"))
        await agent.close()
    }

    @Test func leftoverProcessesOfAnExitedRankAreKilled() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let transcript = try await agent.runRound(["sleep 300 >/dev/null 2>&1 & echo child=$!"])
        #expect(transcript.exit(0)?.exitCode == 0)
        let child = try #require(Self.childPID(in: transcript.text("rank0.out.log")))
        try await eventually("the process \(child) the rank left behind is gone", timeout: 5) { !processExists(child) }
        #expect(transcript.text("agent.log").contains("processes left in its group"))
        await agent.close()
    }

    @Test func missingEntryCommandIsALaunchErrorNamingIt() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let key = RoundKey(runID: "r", caseName: "c", round: 1)
        try agent.controller.send(.startRound(StartRound(
            key: key, nodeRank: 0, runtime: .process,
            ranks: [RankLaunch(rank: 0, localRank: 0, argv: ["no-such-tool-xyz", "--flag"], workingDirectory: "/tmp",
                               environment: ["PATH": "/usr/bin:/bin"])],
            timeoutSeconds: 10, killGraceSeconds: 1)))
        var exit: RankExit?
        for try await message in agent.controller.incoming {
            if case .roundFinished(let finished) = message { exit = finished.exits.first; break }
        }
        let error = try #require(exit?.launchError)
        #expect(error.contains("`no-such-tool-xyz` not found in PATH=/usr/bin:/bin"))
        await agent.close()
    }

    @Test func containerRuntimeIsRefusedWithAFix() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let transcript = try await agent.runRound(["true"], runtime: .docker)
        let failure = try #require(transcript.failure)
        #expect(failure.message.contains("runtime 'docker'"))
        #expect(failure.fix?.contains("runtime: process") == true)
        await agent.close()
    }

    @Test func roundGoesOnWhenTheControllerDisconnects() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        let key = RoundKey(runID: "detached", caseName: "c", round: 1)
        try agent.controller.send(.startRound(StartRound(
            key: key, nodeRank: 0, runtime: .process,
            ranks: [RankLaunch(rank: 0, localRank: 0, argv: ["sh", "-c", "sleep 0.5; echo survived"],
                               workingDirectory: "/tmp", environment: [:])],
            timeoutSeconds: 10, killGraceSeconds: 1)))
        agent.controller.closeOutput()
        await agent.session.value
        let log = try String(contentsOfFile: agent.root + "/runs/detached/c/round1/noderank0/rank0.out.log", encoding: .utf8)
        #expect(log == "survived\n")
        try? FileManager.default.removeItem(atPath: agent.root)
    }

    @Test func requestsBeforeHelloAreRefused() async throws {
        let agent = try AgentHarness()
        try agent.controller.send(.status)
        var reply: AgentMessage?
        for try await message in agent.controller.incoming { reply = message; break }
        guard case .failure(let failure) = reply else { Issue.record("expected failure, got \(String(describing: reply))"); return }
        #expect(failure.message == "status before hello")
        #expect(failure.fix == "send hello first")
        await agent.close()
    }

    @Test func statusAndShutdownAnswerFromTheSessionsOwnState() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        try agent.controller.send(.status)
        var reply: AgentMessage?
        for try await message in agent.controller.incoming { reply = message; break }
        guard case .status(let status) = reply else { Issue.record("expected status, got \(String(describing: reply))"); return }
        #expect(status.pid == getpid())
        #expect(status.root == agent.root)
        #expect(status.sessions == 1)
        #expect(status.rounds.isEmpty)
        #expect(status.executableSHA256.count == 64)
        try agent.controller.send(.shutdown(ShutdownRequest(cancelRunning: false)))
        var answers: [AgentMessage] = []
        for try await message in agent.controller.incoming { answers.append(message) }
        #expect(answers == [.shuttingDown(ShutdownReport(stoppedRounds: []))])
        await agent.session.value
        try? FileManager.default.removeItem(atPath: agent.root)
    }

    static func childPID(in log: String) -> pid_t? {
        guard let range = log.range(of: "child=") else { return nil }
        return pid_t(log[range.upperBound...].prefix { $0.isNumber })
    }
}
