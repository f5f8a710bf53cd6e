import Foundation
import Glibc
import PerfAgent
import PerfCore
import PerfWire
import Testing

@Suite("perf-agent daemon and dial: the real binary, Unix sockets, ranks as real processes")
struct AgentDaemonTests {
    @Test func daemonServesTwoSessionsAtOnce() async throws {
        try await DaemonHarness.with { daemon in
            try await daemon.serve()
            let first = try await daemon.session()
            let second = try await daemon.session()
            #expect(try await first.status().sessions == 2)
            try first.start(RoundKey(runID: "one", caseName: "c", round: 1), ["sleep 0.3; echo first"])
            try second.start(RoundKey(runID: "two", caseName: "c", round: 1), ["sleep 0.3; echo second"])
            let firstDone = (try await first.finished().get())
            let secondDone = (try await second.finished().get())
            #expect(firstDone.exits.first?.exitCode == 0)
            #expect(secondDone.exits.first?.exitCode == 0)
            second.disconnect()
            try await eventually("the second session is gone") { try await first.status().sessions == 1 }
            #expect(try await first.ask(.shutdown(ShutdownRequest(cancelRunning: false))) == .shuttingDown(ShutdownReport(stoppedRounds: [])))
        }
    }

    @Test func socketIsOwnerOnlyInsideAPrivateRoot() async throws {
        try await DaemonHarness.with { daemon in
            let process = try await daemon.serve()
            #expect(mode(of: daemon.root) == 0o700)
            #expect(mode(of: daemon.hostDirectory + "/agent.sock") == 0o600)
            #expect(daemon.daemonPID == process.processIdentifier)
            let session = try await daemon.session()
            let status = try await session.status()
            #expect(status.pid == process.processIdentifier)
            #expect(status.root == daemon.root)
            #expect(status.executable == URL(fileURLWithPath: try DaemonHarness.executable()).resolvingSymlinksInPath().path)
            #expect(status.executableSHA256 == (try FileDigest.sha256Hex(of: try DaemonHarness.executable())))
            #expect(status.rounds.isEmpty)
        }
    }

    @Test func rootWritableByOthersOrOwnedByAnotherUserIsRefused() async throws {
        try await DaemonHarness.with { daemon in
            try FileManager.default.createDirectory(atPath: daemon.root, withIntermediateDirectories: false)
            chmod(daemon.root, 0o777)
            let open = try daemon.agent(["serve", "--root", daemon.root])
            #expect(open.status == 1)
            #expect(open.stderr.contains("the agent root \(daemon.root) is writable by its group or others (mode 777)"))
            #expect(open.stderr.contains("chmod go-w \(daemon.root)"))
            chmod(daemon.root, 0o700)
            guard geteuid() == 0 else { return }
            chown(daemon.root, 65534, 65534)
            let foreign = try daemon.agent(["serve", "--root", daemon.root])
            #expect(foreign.status == 1)
            #expect(foreign.stderr.contains("belongs to uid 65534"))
            #expect(foreign.stderr.contains("pick a --root of your own"))
        }
    }

    @Test func socketPathTooLongForSunPathIsRefusedNamingIt() async throws {
        try await DaemonHarness.with { daemon in
            let root = daemon.root + "/" + String(repeating: "d", count: 100)
            for command in ["serve", "dial"] {
                let run = try daemon.agent([command, "--root", root])
                #expect(run.status == 1)
                #expect(run.stderr.contains("the socket path \(AgentRoot(root).hostDirectory)/agent.sock is"))
                #expect(run.stderr.contains("pick a shorter --root"))
                #expect(run.stdout.isEmpty)
            }
        }
    }

    @Test func roundFinishesItsLogsAfterTheControllerDisconnects() async throws {
        try await DaemonHarness.with { daemon in
            try await daemon.serve()
            let session = try await daemon.session()
            let key = RoundKey(runID: "gone", caseName: "c", round: 1)
            // The rank ends only when the test says so: the round is surely running when asked.
            let go = daemon.root + "/go"
            try session.start(key, ["echo begin; while [ ! -e '\(go)' ]; do sleep 0.05; done; echo end"])
            _ = try await session.ranksStarted(1)
            session.disconnect()
            let observer = try await daemon.session()
            #expect(try await observer.status().rounds.map(\.key) == [key])
            FileManager.default.createFile(atPath: go, contents: nil)
            let directory = daemon.root + "/runs/gone/c/round1/noderank0"
            try await eventually("the round ends") { (try? String(contentsOfFile: directory + "/agent.log", encoding: .utf8))?.contains("round ended") == true }
            #expect(try String(contentsOfFile: directory + "/rank0.out.log", encoding: .utf8) == "begin\nend\n")
            #expect(try String(contentsOfFile: directory + "/agent.log", encoding: .utf8).contains("rank 0 exited with status 0"))
            try await eventually("the daemon forgets the round") { daemon.output.contains("round gone/c/round1 ended") }
            #expect(try await observer.status().rounds.isEmpty)
        }
    }

    @Test func roundsOfTwoRunsRunSideBySide() async throws {
        try await DaemonHarness.with { daemon in
            try await daemon.serve()
            let first = try await daemon.session()
            let second = try await daemon.session()
            let keys = [RoundKey(runID: "run-a", caseName: "c", round: 1), RoundKey(runID: "run-b", caseName: "c", round: 1)]
            try first.start(keys[0], ["sleep 30"])
            try second.start(keys[1], ["sleep 30"])
            _ = try await first.ranksStarted(1)
            _ = try await second.ranksStarted(1)
            #expect(Set(try await first.status().rounds.map(\.key)) == Set(keys))
            for (session, key) in zip([first, second], keys) {
                try session.channel.send(.cancelRound(CancelRound(key: key, reason: "test over")))
                let finished = try await session.finished().get()
                #expect(finished.key == key)
                #expect(finished.exits.first?.stopReason == "cancelled: test over")
            }
        }
    }

    @Test func roundKeyAlreadyRunningIsRefused() async throws {
        try await DaemonHarness.with { daemon in
            try await daemon.serve()
            let first = try await daemon.session()
            let second = try await daemon.session()
            let key = RoundKey(runID: "same", caseName: "c", round: 2)
            try first.start(key, ["sleep 30"])
            _ = try await first.ranksStarted(1)
            try second.start(key, ["true"])
            guard case .failure(let failure) = try await second.finished() else {
                Issue.record("a second round with the same key started")
                return
            }
            #expect(failure.key == key)
            #expect(failure.message == "round same/c/round2 is already running on this node")
            try first.channel.send(.cancelRound(CancelRound(key: key, reason: "test over")))
            #expect((try await first.finished().get()).exits.first?.signal == SIGTERM)
        }
    }

    @Test func statusListsARunningRoundWithItsRanksAlive() async throws {
        try await DaemonHarness.with { daemon in
            try await daemon.serve()
            let session = try await daemon.session()
            let key = RoundKey(runID: "busy", caseName: "c", round: 3)
            try session.start(key, ["sleep 30", "sleep 30"])
            _ = try await session.ranksStarted(2)
            let status = try await session.status()
            let round = try #require(status.rounds.first)
            #expect(status.rounds.count == 1)
            #expect(round.key == key)
            #expect(round.ranksAlive == 2)
            #expect(abs(round.startedAtNanoseconds - Timestamp.nanosecondsSinceEpoch()) < 30_000_000_000)
            try session.channel.send(.cancelRound(CancelRound(key: key, reason: "test over")))
            _ = try await session.finished()
        }
    }

    @Test func shutdownIsRefusedWhileRoundsRunAndStopsThemWhenTold() async throws {
        try await DaemonHarness.with { daemon in
            let process = try await daemon.serve()
            let session = try await daemon.session()
            let key = RoundKey(runID: "long", caseName: "c", round: 1)
            try session.start(key, ["sleep 300", "trap '' TERM; while true; do sleep 0.1; done"], grace: 0.5)
            let ranks = try await session.ranksStarted(2)
            guard case .failure(let refusal) = try await session.ask(.shutdown(ShutdownRequest(cancelRunning: false))) else {
                Issue.record("shutdown went ahead with a round running")
                return
            }
            #expect(refusal.message.contains("long/c/round1"))
            #expect(refusal.fix == "wait for them, or stop with --force")
            #expect(try await session.status().rounds.map(\.key) == [key])

            try session.channel.send(.shutdown(ShutdownRequest(cancelRunning: true)))
            var finished: RoundFinished?
            var report: ShutdownReport?
            while report == nil {
                switch try await session.next() {
                case .roundFinished(let round): finished = round
                case .shuttingDown(let answer): report = answer
                default: continue
                }
            }
            #expect(report?.stoppedRounds == [key])
            #expect(finished?.exits.map(\.stopReason) == ["agent shutdown", "agent shutdown"])
            for pid in ranks { #expect(!processExists(pid), "rank process \(pid) survived the shutdown") }
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(!FileManager.default.fileExists(atPath: daemon.hostDirectory + "/agent.sock"))
            #expect(!FileManager.default.fileExists(atPath: daemon.hostDirectory + "/agent.pid"))
        }
    }

    @Test func sigtermStopsRunningRanksAndCleansUp() async throws {
        try await DaemonHarness.with { daemon in
            let process = try await daemon.serve()
            let session = try await daemon.session()
            try session.start(RoundKey(runID: "term", caseName: "c", round: 1), ["sleep 300"])
            let ranks = try await session.ranksStarted(1)
            kill(process.processIdentifier, SIGTERM)
            let finished = (try await session.finished().get())
            #expect(finished.exits.first?.stopReason == "agent stopped: SIGTERM received")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(!processExists(ranks[0]))
            #expect(!FileManager.default.fileExists(atPath: daemon.hostDirectory + "/agent.sock"))
            #expect(!FileManager.default.fileExists(atPath: daemon.hostDirectory + "/agent.pid"))
        }
    }

    @Test func dialStartsTheDaemonAndASecondDialReusesIt() async throws {
        try await DaemonHarness.with { daemon in
            let hello = ControllerMessage.hello(ControllerHello(controllerVersion: "test", sentAtNanoseconds: 0))
            let input = try frames([hello, .status])
            let began = Date()
            let first = try daemon.agent(["dial", "--root", daemon.root], input: input)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(Date().timeIntervalSince(began) < 10, "dial waited for the daemon it started")
            guard case .status(let status) = try first.messages().last else {
                Issue.record("no status through dial: \(try first.messages()), stderr \(first.stderr)")
                return
            }
            #expect(status.pid == daemon.daemonPID)
            #expect(processExists(status.pid))
            #expect(mode(of: daemon.root) == 0o700)
            let log = try String(contentsOfFile: daemon.hostDirectory + "/agent.log", encoding: .utf8)
            #expect(log.contains("serving on \(daemon.hostDirectory)/agent.sock"))

            let second = try daemon.agent(["dial", "--root", daemon.root], input: input)
            guard case .status(let again) = try second.messages().last else {
                Issue.record("no status through the second dial: \(second.stderr)")
                return
            }
            #expect(again.pid == status.pid)
            #expect(again.startedAtNanoseconds == status.startedAtNanoseconds)
        }
    }

    @Test func racingDialsEndWithOneDaemon() async throws {
        try await DaemonHarness.with { daemon in
            let input = try frames([.hello(ControllerHello(controllerVersion: "test", sentAtNanoseconds: 0)), .status])
            let runs = try inParallel(3) { _ in try daemon.agent(["dial", "--root", daemon.root], input: input) }
            let pids = try runs.map { run -> Int32? in
                guard case .status(let status) = try run.messages().last else { return nil }
                return status.pid
            }
            #expect(Set(pids).count == 1 && pids.first != nil, "dials reached \(pids): \(runs.map(\.stderr))")
            #expect(pids.first == daemon.daemonPID)
        }
    }

    @Test func dialWithoutStartExitsThreeWhenNoDaemonRuns() async throws {
        try await DaemonHarness.with { daemon in
            let run = try daemon.agent(["dial", "--root", daemon.root, "--no-start"])
            #expect(run.status == 3)
            #expect(run.stderr == "no perf-agent daemon runs under \(daemon.root)\n")
            #expect(run.stdout.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: daemon.root))
        }
    }

    @Test func secondServeOnTheSameRootSaysOneRunsAndExitsZero() async throws {
        try await DaemonHarness.with { daemon in
            let process = try await daemon.serve()
            let second = try daemon.agent(["serve", "--root", daemon.root])
            #expect(second.status == 0)
            #expect(String(decoding: second.stdout, as: UTF8.self)
                == "a perf-agent daemon already runs under \(daemon.root) (pid \(process.processIdentifier))\n")
            #expect(process.isRunning)
            #expect(daemon.daemonPID == process.processIdentifier)
        }
    }

    @Test func idleDaemonExitsAfterIdleExitSeconds() async throws {
        try await DaemonHarness.with { daemon in
            let process = try await daemon.serve(["--idle-exit", "6"])
            let session = try await daemon.session()
            try session.start(RoundKey(runID: "idle", caseName: "c", round: 1), ["sleep 6.5"])
            _ = try await session.finished()
            try await Task.sleep(for: .seconds(6.5))
            #expect(process.isRunning, "the daemon exited while a session was connected")
            session.disconnect()
            let disconnected = Date()
            try await eventually("the idle daemon exits", timeout: 15) { !process.isRunning }
            #expect(Date().timeIntervalSince(disconnected) >= 5.5)
            #expect(process.terminationStatus == 0)
            #expect(daemon.output.contains("stopping: no session and no round for 6 s"))
            #expect(!FileManager.default.fileExists(atPath: daemon.hostDirectory + "/agent.sock"))
        }
    }
}
