import PerfCore
import Testing

@Suite("round checks, case statistics and the summary")
struct RoundEvaluationTests {
    static let metrics = [
        PlannedMetric(MetricSpec(name: "throughput", higherIsBetter: true, primary: true, unit: "items/s")),
        PlannedMetric(MetricSpec(name: "loss", higherIsBetter: false)),
    ]

    static func scan(_ log: String) -> PerfLogScanResult {
        var scanner = PerfLogScanner()
        scanner.consume(Array(log.utf8))
        scanner.finish()
        return PerfLogScanResult(events: scanner.takeEvents(), report: scanner.report)
    }

    static func rank(_ rank: Int, exit: RankExit? = nil, log: String) -> RoundEvaluator.RankInput {
        RoundEvaluator.RankInput(
            rank: rank, nodeRank: 0, host: "h1", log: "c/round1/h1_noderank0/rank\(rank).out.log",
            exit: exit ?? RankExit(rank: rank, exitCode: 0), scan: scan(log))
    }

    static func evaluate(_ ranks: [RoundEvaluator.RankInput], round: Int = 1) -> RoundResult {
        RoundEvaluator.evaluate(round: round, ranks: ranks, metrics: metrics, startedAt: "s", endedAt: "e", durationSeconds: 1)
    }

    static let finished = #"[PerfLog] {"event":"FINISHED","value":{"throughput":10.5,"loss":1.25,"converged":true,"note":"x"}}"# + "\n"

    @Test func roundPassesWhenEveryRankExitedZeroAndRankZeroFinished() {
        let result = Self.evaluate([Self.rank(0, log: Self.finished), Self.rank(1, log: "plain\n")])
        #expect(result.verdict == .passed)
        #expect(result.values == ["throughput": 10.5, "loss": 1.25], "only finite numbers become values")
        #expect(result.ranks[0].eventCounts == ["FINISHED": 1])
        #expect(result.ranks[1].finished == nil)
    }

    @Test func nonZeroExitFailsTheRoundNamingHostRankAndLog() {
        let result = Self.evaluate([
            Self.rank(0, log: Self.finished),
            Self.rank(1, exit: RankExit(rank: 1, signal: 15, stopReason: "round timeout after 5 s"), log: ""),
        ])
        #expect(result.verdict == .failed)
        #expect(result.failures == [
            "host h1, rank 1: killed by SIGTERM (stopped: round timeout after 5 s); see c/round1/h1_noderank0/rank1.out.log",
        ])
    }

    @Test func missingFinishedOrPrimaryMetricFailsTheRound() {
        let noFinished = Self.evaluate([Self.rank(0, log: "[PerfLog] {\"event\":\"STEP_END\",\"value\":{}}\n")])
        #expect(noFinished.failures.first?.contains("no FINISHED event") == true)
        let noPrimary = Self.evaluate([Self.rank(0, log: "[PerfLog] {\"event\":\"FINISHED\",\"value\":{\"loss\":1}}\n")])
        #expect(noPrimary.failures.first?.contains("primary metric 'throughput'") == true)
    }

    @Test func badLinesAreCountedButNeverFailTheRound() {
        let result = Self.evaluate([Self.rank(0, log: "[PerfLog] {\"event\":\"STEP\n" + Self.finished)])
        #expect(result.verdict == .passed)
        #expect(result.badLines.values.reduce(0, +) == 1)
    }

    @Test func caseStatisticsUsePassedRoundsOnlyAndKeepEveryRound() throws {
        let passed1 = Self.evaluate([Self.rank(0, log: Self.finished)], round: 1)
        let failed = Self.evaluate([Self.rank(0, exit: RankExit(rank: 0, exitCode: 1), log: Self.finished)], round: 2)
        var passed3 = Self.evaluate([Self.rank(0, log: Self.finished)], round: 3)
        passed3.values["throughput"] = 12.5
        let plan = RunPlan(
            runID: "r", caseName: "c", preset: "p", vendor: "v", runtime: .process, image: nil, framework: "f",
            rounds: 3, roundTimeout: 1, nnodes: 1, nprocPerNode: 1, dtype: nil, peakFlopsPerRank: nil,
            metrics: Self.metrics, nodes: [])
        let result = CaseResult(plan: plan, rounds: [passed1, failed, passed3])
        #expect(result.roundsPassed == 2 && result.roundsFailed == 1 && result.verdict == .failed)
        #expect(result.metrics.map(\.name) == ["throughput", "loss"])
        let throughput = try #require(result.metrics.first)
        #expect(throughput.perRound == [10.5, 10.5, 12.5])
        #expect(throughput.statistics?.count == 2)
        #expect(throughput.statistics?.mean == 11.5)

        let csv = SummaryRenderer.csv(caseResult: result)
        #expect(csv.contains("c,p,v,throughput,items/s,true,true,2,11.5,11.5,10.5,12.5,"))
        let log = SummaryRenderer.failuresLog(rounds: [passed1, failed, passed3], abortReason: nil)
        #expect(log.hasPrefix("round 2: host h1, rank 0: exited with status 1"))
    }

    @Test func numbersAreShownWithFourSignificantDigits() {
        #expect(SummaryRenderer.format(2675.3) == "2675")
        #expect(SummaryRenderer.format(23_606_784) == "23606784")
        #expect(SummaryRenderer.format(0.43861) == "0.4386")
        #expect(SummaryRenderer.format(3.7754) == "3.775")
    }
}
