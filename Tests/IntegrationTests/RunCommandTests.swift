import Foundation
import Testing

/// `perfctl run` end to end: the real binary, a real perf-agent child, real rank processes.
@Suite("perfctl run on localhost", .serialized)
struct RunCommandTests {
    @Test func runWritesTheResultsLayoutAndPrintsTheSummary() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let result = try tree.perfctl(["run", "cases/demo"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("# demo on cpu"))
        #expect(result.stdout.contains("| **throughput** | items/s | higher | 101.5 | 101.5 | 101 | 102 |"))
        #expect(result.stderr.contains("round 1: passed"))
        #expect(result.stderr.contains("throughput 101"))

        let run = try tree.runDirectory()
        let record = try tree.json("\(run)/run.json")
        #expect(record["status"] as? String == "passed")
        #expect(record["endedAt"] is String)
        let cluster = try #require(record["cluster"] as? [String: Any])
        #expect((cluster["sha256"] as? String)?.count == 64)
        let hosts = try #require(record["hosts"] as? [[String: Any]])
        #expect(hosts.first?["agentVersion"] as? String != nil)

        for round in 1...2 {
            let node = "\(run)/demo/round\(round)/localhost_noderank0"
            let rank1 = try tree.read("\(node)/rank1.out.log")
            #expect(rank1.contains("args: --from-case two words"), "arguments with spaces arrive intact")
            #expect(try tree.read("\(node)/agent.log").contains("rank 1 exited with status 0"))
            let roundResult = try tree.json("\(run)/demo/round\(round)/result.json")
            #expect(roundResult["verdict"] as? String == "passed")
            let values = try #require(roundResult["values"] as? [String: Any])
            #expect(values["throughput"] as? Double == Double(100 + round))
            let ranks = try #require(roundResult["ranks"] as? [[String: Any]])
            let perflog = try #require(ranks.first?["perflog"] as? [String: Any])
            #expect(perflog["events"] as? Int == 3, "INIT_START, STEP_END and FINISHED of rank 0")
            #expect(!((perflog["badLines"] as? [String: Any]) ?? [:]).isEmpty, "the truncated line is counted")
        }
        let caseResult = try tree.json("\(run)/demo/result.json")
        #expect(caseResult["roundsPassed"] as? Int == 2)
        let metrics = try #require(caseResult["metrics"] as? [[String: Any]])
        let throughput = try #require(metrics.first { $0["name"] as? String == "throughput" })
        let statistics = try #require(throughput["statistics"] as? [String: Any])
        #expect(statistics["mean"] as? Double == 101.5)
        #expect(statistics["min"] as? Double == 101)
        #expect(abs((statistics["stddev"] as? Double ?? 0) - 0.7071067811865476) < 1e-12)
        #expect(try tree.read("\(run)/summary.md") == result.stdout)
        #expect(try tree.read("\(run)/summary.csv").contains("demo,,cpu,throughput,items/s,true,true,2,101.5"))
        #expect(try tree.read("\(run)/failures.log").isEmpty)
    }

    @Test func runJSONRecordsEveryHostsClockOffset() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let result = try tree.perfctl(["run", "cases/demo", "--rounds", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let hosts = try #require(try tree.json("\(try tree.runDirectory())/run.json")["hosts"] as? [[String: Any]])
        let offset = try #require(hosts.first?["clockOffsetMs"] as? Double)
        let uncertainty = try #require(hosts.first?["clockUncertaintyMs"] as? Double)
        // the agent runs on this host's clock: only the probe's own timing error remains
        #expect(abs(offset) < 50, "offset \(offset) ms")
        #expect(uncertainty >= 0 && uncertainty < 50, "uncertainty \(uncertainty) ms")
        let connected = result.stderr.split(separator: "\n").first { $0.contains("localhost: perf-agent") }
        #expect(connected?.contains(/, clock [+-][0-9.]+ ms ± [0-9.]+$/) == true, "the connected line shows the clock: \(result.stderr)")
        print("localhost clock offset \(offset) ms ± \(uncertainty); \(connected ?? "")")
    }

    @Test func failedRoundKeepsItsLogsAndTheRunGoesOn() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let result = try tree.perfctl(["run", "cases/demo"], environment: ["FAIL_RANK": "1", "FAIL_ROUND": "1"])
        #expect(result.status == 1)
        let run = try tree.runDirectory()
        let round1 = try tree.json("\(run)/demo/round1/result.json")
        #expect(round1["verdict"] as? String == "failed")
        let failures = try #require(round1["failures"] as? [String])
        #expect(failures.contains { $0.contains("host localhost, rank 1: exited with status 3") })
        #expect(try tree.read("\(run)/demo/round1/localhost_noderank0/rank1.out.log").contains("fails on purpose"))
        #expect(try tree.json("\(run)/demo/round2/result.json")["verdict"] as? String == "passed")
        #expect(try tree.json("\(run)/run.json")["status"] as? String == "failed")
        let caseResult = try tree.json("\(run)/demo/result.json")
        let metrics = try #require(caseResult["metrics"] as? [[String: Any]])
        let statistics = try #require(metrics.first?["statistics"] as? [String: Any])
        #expect(statistics["count"] as? Int == 1, "statistics use passed rounds only")
        #expect(statistics["mean"] as? Double == 102)
        #expect(try tree.read("\(run)/failures.log").contains("round 1: host localhost, rank 1"))
        #expect(result.stdout.contains("## Failures"))
    }

    @Test func hangingRanksAreStoppedAtTheRoundTimeout() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let began = Date()
        let result = try tree.perfctl(
            ["run", "cases/demo", "--rounds", "1", "--round-timeout", "1.5", "--kill-grace", "1"],
            environment: ["HANG": "1"])
        #expect(Date().timeIntervalSince(began) < 20)
        #expect(result.status == 1)
        let round = try tree.json("\(try tree.runDirectory())/demo/round1/result.json")
        let failures = try #require(round["failures"] as? [String])
        #expect(failures.contains { $0.contains("rank 0: killed by SIGTERM (stopped: round timeout after 1.5 s)") })
        #expect(failures.contains { $0.contains("rank 1: killed by SIGTERM") })
        let leftovers = try CommandResult.run("/usr/bin/pgrep", ["-f", "sleep 600"], in: "/", environment: [:])
        #expect(leftovers.stdout.isEmpty, "ranks survived the round: \(leftovers.stdout)")
    }

    @Test func interruptStopsTheRoundKeepsItsResultsAndRunsNoMoreRounds() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let process = try tree.startPerfctl(
            ["run", "cases/demo", "--rounds", "3", "--kill-grace", "1"], environment: ["HANG": "1"],
            waitingFor: "demo/round1/localhost_noderank0/rank1.out.log")
        let interrupted = Date()
        process.interrupt()
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(interrupted) < 10)
        #expect(process.terminationStatus == 1)
        let run = try tree.runDirectory()
        let record = try tree.json("\(run)/run.json")
        #expect(record["status"] as? String == "aborted")
        #expect((record["abortReason"] as? String)?.contains("perfctl received SIGINT") == true)
        let round = try tree.json("\(run)/demo/round1/result.json")
        let failures = try #require(round["failures"] as? [String])
        #expect(failures.contains { $0.contains("stopped: cancelled: perfctl received SIGINT") })
        #expect(!FileManager.default.fileExists(atPath: tree.root + "/\(run)/demo/round2"))
        let leftovers = try CommandResult.run("/usr/bin/pgrep", ["-f", "sleep 600"], in: "/", environment: [:])
        #expect(leftovers.stdout.isEmpty, "ranks survived the interrupt: \(leftovers.stdout)")
    }

    @Test func entryCommandThatDoesNotExistFailsPreflightBeforeAnyRound() throws {
        let tree = try ClusterTree(caseYAML: """
            framework: shell
            entry: [definitely-not-installed-tool, --x]
            """)
        defer { tree.remove() }
        let result = try tree.perfctl(["run", "cases/demo"])
        #expect(result.status == 2)
        #expect(result.stderr.contains(
            "host localhost (localhost): error: preflight: entry: entry command `definitely-not-installed-tool` not found in PATH="),
                "\(result.stderr)")
        #expect(result.stderr.contains("fix: install the case's program on this host"))
        let record = try tree.json("\(try tree.runDirectory())/run.json")
        #expect(record["status"] as? String == "aborted")
    }

    @Test func missingCaseSaysWhichCasesExist() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let result = try tree.perfctl(["run", "cases/nope"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no case at cases/nope"))
        #expect(result.stderr.contains("fix: use one of: cases/demo"))
    }

    @Test func unknownVendorIsAnErrorNamingTheVendorsThatExist() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        try tree.write("cluster.yaml", "vendor: acme\nhosts:\n  - address: localhost\n")
        let result = try tree.perfctl(["run", "cases/demo"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("acme"))
        #expect(result.stderr.contains("cpu"))
    }
}

@Suite("perfctl plan and validate")
struct PlanAndValidateTests {
    @Test func planShowsEveryRankWithoutRunningIt() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let result = try tree.perfctl(["plan", "cases/demo", "--rounds", "4"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("4 round(s)"))
        #expect(result.stdout.contains("command: sh work.sh --from-case 'two words'"))
        #expect(result.stdout.contains("WORLD_SIZE=2"))
        #expect(result.stdout.contains("rank 1: NODE_RANK=0 LOCAL_RANK=1 RANK=1 on localhost"))
        #expect(!FileManager.default.fileExists(atPath: tree.root + "/results"), "plan runs nothing and writes nothing")

        let json = try tree.perfctl(["plan", "cases/demo", "--json"])
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let nodes = try #require(plan["nodes"] as? [[String: Any]])
        let ranks = try #require(nodes.first?["ranks"] as? [[String: Any]])
        let env = try #require(ranks.last?["environment"] as? [String: String])
        #expect(env["RANK"] == "1")
        #expect(env["PERF_PEAK_FLOPS"].flatMap(Double.init) == 1e11)
    }

    @Test func validateReportsEveryProblemWithItsPosition() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let valid = try tree.perfctl(["validate"])
        #expect(valid.status == 0)
        #expect(valid.stdout.contains("cases: demo; vendors: cpu"))
        try tree.write("cases/demo/case.yaml", "framework: shell\nentry: [sh]\nnproc_per_node: 0\nround: 3\n")
        let result = try tree.perfctl(["validate"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("case.yaml:3:"))
        #expect(result.stderr.contains("case.yaml:4:"))
        #expect(result.stderr.contains("rounds"), "suggests the key that was meant")
    }

    @Test func everyCommandHasHelpWithExamples() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        for command in ["run", "plan", "validate"] {
            let help = try tree.perfctl([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Examples:"), "perfctl \(command) --help")
        }
    }
}

@Suite("local agent daemon")
struct LocalDaemonTests {
    @Test func daemonOfAnOlderBuildIsReplacedWhenIdle() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        // A daemon from another file: to perfctl, an agent built before the last `swift build`.
        let older = tree.root + "/older/perf-agent"
        try FileManager.default.createDirectory(atPath: tree.root + "/older", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try ClusterTree.executable("perf-agent"), toPath: older)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: older)
        daemon.arguments = ["serve", "--root", tree.root + "/agent", "--idle-exit", "30"]
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate() } }
        var waited = 0
        while !FileManager.default.fileExists(atPath: tree.root + "/agent/hosts/\(ProcessInfo.processInfo.hostName)/agent.pid"), waited < 100 {
            Thread.sleep(forTimeInterval: 0.05)
            waited += 1
        }
        let result = try tree.perfctl(["run", "cases/demo", "--rounds", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0, "the older daemon was asked to stop and exited cleanly")
        let status = try tree.perfctl(["agent", "status"])
        #expect(status.status == 0, "the current build's daemon runs: \(status.stdout) \(status.stderr)")
        _ = try tree.perfctl(["agent", "stop"])
    }
}

@Suite("perfctl cancel")
struct CancelTests {
    @Test func cancelFromAnotherProcessStopsEveryRankAndTheRunsLaterRounds() throws {
        let tree = try ClusterTree()
        defer { tree.remove() }
        let run = try tree.startPerfctl(
            ["run", "cases/demo", "--rounds", "3", "--kill-grace", "1"], environment: ["HANG": "1"],
            waitingFor: "demo/round1/localhost_noderank0/rank1.out.log")
        let began = Date()
        let cancel = try tree.perfctl(["cancel", "latest"])
        #expect(cancel.status == 0, "stderr: \(cancel.stderr)")
        #expect(cancel.stdout.contains("localhost (localhost)  stopped 2 rank(s) of round 1"), "\(cancel.stdout)")
        run.waitUntilExit()
        #expect(Date().timeIntervalSince(began) < 10, "every rank stopped and perfctl finished within 10 s")
        #expect(run.terminationStatus == 1)
        let id = try tree.runDirectory()
        let record = try tree.json("\(id)/run.json")
        #expect(record["status"] as? String == "aborted")
        #expect((record["abortReason"] as? String)?.contains("cancelled during round 1 of 3: perfctl cancel by") == true,
                "\(record["abortReason"] ?? "")")
        #expect(!FileManager.default.fileExists(atPath: tree.root + "/\(id)/demo/round2"), "no later round started")
        let leftovers = try CommandResult.run("/usr/bin/pgrep", ["-f", "sleep 600"], in: "/", environment: [:])
        #expect(leftovers.stdout.isEmpty, "ranks survived the cancel: \(leftovers.stdout)")

        let unknown = try tree.perfctl(["cancel", "no-such-run"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no run no-such-run in"))
        #expect(unknown.stderr.contains("recent runs: \(id.dropFirst("results/".count)) (or `latest`)"))
    }
}
