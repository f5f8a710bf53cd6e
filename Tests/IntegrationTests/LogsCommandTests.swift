import Foundation
import PerfController
import Testing

/// `perfctl logs`: a finished run's logs from the results directory, and a running run's
/// logs followed while `perfctl run` writes them.
@Suite("perfctl logs", .serialized)
struct LogsCommandTests {
    /// Five numbered lines per rank and round; rank 0 ends with FINISHED.
    static let workload = #"""
        #!/bin/sh
        i=1
        while [ $i -le 5 ]; do echo "rank $RANK round $PERF_ROUND line $i"; i=$((i + 1)); done
        if [ "$RANK" = 0 ]; then
          echo "[PerfLog] {\"event\":\"FINISHED\",\"value\":{\"throughput\":1,\"final_loss\":1},\"metadata\":{\"rank\":0}}"
        fi
        """#

    @Test func finishedRunIsPrintedWithEveryFilter() throws {
        let tree = try ClusterTree(workload: Self.workload)
        defer { tree.remove() }
        let run = try tree.perfctl(["run", "cases/demo"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let runID = String(try tree.runDirectory().dropFirst("results/".count))

        let all = try tree.perfctl(["logs"])
        #expect(all.status == 0, "stderr: \(all.stderr)")
        let lines = all.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 * (5 + 1 + 5), "2 rounds × (rank 0: 5 + FINISHED, rank 1: 5)")
        #expect(lines.first == "r1 localhost/rank 0 | rank 0 round 1 line 1")
        #expect(lines.contains("r2 localhost/rank 1 | rank 1 round 2 line 5"))
        #expect(!all.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        #expect(try tree.perfctl(["logs", "latest"]).stdout == all.stdout)
        #expect(try tree.perfctl(["logs", runID]).stdout == all.stdout)
        #expect(try tree.perfctl(["logs", "--host", "localhost"]).stdout == all.stdout)
        #expect(try tree.perfctl(["logs", "--host", "elsewhere"]).stdout.isEmpty)

        let one = try tree.perfctl(["logs", runID, "--rank", "1", "--round", "2"])
        #expect(one.stdout == (1...5).map { "localhost/rank 1 | rank 1 round 2 line \($0)\n" }.joined(),
                "one round shown: no round in the prefix")
        let rank0 = try tree.perfctl(["logs", "--rank", "0"]).stdout
        #expect(rank0.split(separator: "\n").count == 12 && !rank0.contains("rank 1 |"))

        let tail = try tree.perfctl(["logs", "--round", "1", "--tail", "2"])
        #expect(tail.stdout == """
            localhost/rank 0 | rank 0 round 1 line 5
            localhost/rank 0 | [PerfLog] {"event":"FINISHED","value":{"throughput":1,"final_loss":1},"metadata":{"rank":0}}
            localhost/rank 1 | rank 1 round 1 line 4
            localhost/rank 1 | rank 1 round 1 line 5

            """)
        let grep = try tree.perfctl(["logs", "--grep", "line 3"])
        #expect(grep.stdout == """
            r1 localhost/rank 0 | rank 0 round 1 line 3
            r1 localhost/rank 1 | rank 1 round 1 line 3
            r2 localhost/rank 0 | rank 0 round 2 line 3
            r2 localhost/rank 1 | rank 1 round 2 line 3

            """)
        let regex = try tree.perfctl(["logs", "--round", "2", "--rank", "1", "--grep", "/line [24]$/"])
        #expect(regex.stdout == "localhost/rank 1 | rank 1 round 2 line 2\nlocalhost/rank 1 | rank 1 round 2 line 4\n")
        let badRegex = try tree.perfctl(["logs", "--grep", "/(/"])
        #expect(badRegex.status == 2 && badRegex.stderr.contains("not a valid regular expression"))

        let agent = try tree.perfctl(["logs", "--round", "1", "--agent"]).stdout
        #expect(agent.contains("localhost/agent | ") && agent.contains("rank 1 exited with status 0"))

        let unknown = try tree.perfctl(["logs", "20200101-000000-nope"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no run 20200101-000000-nope in "))
        #expect(unknown.stderr.contains("recent runs: \(runID)"), "stderr: \(unknown.stderr)")
    }

    @Test func prefixesHaveAColourPerRankOnlyWhenAsked() throws {
        let file = RunLogFile(caseName: "demo", round: 2, host: "pc1", nodeRank: 0, rank: 3, path: "/dev/null")
        #expect(RunLogFormatter(showRound: true, colour: false).prefix(file) == "r2 pc1/rank 3 | ")
        #expect(RunLogFormatter(showRound: false, colour: true).prefix(file) == "\u{1B}[35mpc1/rank 3 | \u{1B}[0m")
        var agent = file
        agent.rank = nil
        #expect(RunLogFormatter(showRound: false, colour: false).prefix(agent) == "pc1/agent | ")
        // Test output is a pipe, never a terminal.
        #expect(!RunLogFormatter.wantsColour(fd: 1, environment: [:]) || isatty(1) == 1)
        let tree = try ClusterTree()
        defer { tree.remove() }
        let help = try tree.perfctl(["logs", "--help"])
        #expect(help.status == 0 && help.stdout.contains("Examples:") && help.stdout.contains("--follow"))
    }

    @Test func followPrintsEveryLineOfARunningRunOnceAndExitsAfterItEnds() throws {
        let slow = #"""
            #!/bin/sh
            i=1
            while [ $i -le 8 ]; do echo "rank $RANK round $PERF_ROUND slow $i"; sleep 0.2; i=$((i + 1)); done
            printf 'rank %s no newline at the end' "$RANK"
            """#
        let tree = try ClusterTree(caseYAML: """
            framework: shell
            entry: [sh, work.sh]
            nproc_per_node: 2
            rounds: 2
            round_timeout: 60
            dtype: fp32
            metrics:
              - name: throughput
                higher_is_better: true
            """, workload: slow)
        defer { tree.remove() }
        // Wait for the run directory, so `latest` names this run.
        let run = try tree.startPerfctl(["run", "cases/demo"], waitingFor: "run.json")
        defer { if run.isRunning { run.terminate() } }
        #expect(run.isRunning, "follow starts while the run goes on")
        let followed = try tree.perfctl(["logs", "latest", "--follow"])
        #expect(followed.status == 0, "stderr: \(followed.stderr)")
        let status = try tree.json("\(try tree.runDirectory())/run.json")["status"] as? String
        #expect(status != nil && status != "running", "follow exits only after the run ended")
        run.waitUntilExit()

        var expected: [String] = []
        for round in 1...2 {
            for rank in 0...1 {
                expected += (1...8).map { "r\(round) localhost/rank \(rank) | rank \(rank) round \(round) slow \($0)" }
                expected.append("r\(round) localhost/rank \(rank) | rank \(rank) no newline at the end")
            }
        }
        let lines = followed.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines.sorted() == expected.sorted(), "every line exactly once")
        for round in 1...2 {
            for rank in 0...1 {
                let own = lines.filter { $0.hasPrefix("r\(round) localhost/rank \(rank) |") }
                #expect(own == expected.filter { $0.hasPrefix("r\(round) localhost/rank \(rank) |") }, "each rank's lines in order")
            }
        }
        // Followed live: the run's own logs hold the same lines.
        #expect(try tree.perfctl(["logs"]).stdout.split(separator: "\n").sorted() == lines.sorted().map { Substring($0) })
    }
}
