import PerfCore
import Testing

@Suite("rank event times on the controller's clock")
struct ClockCorrectionTests {
    static func input(rank: Int, host: String, offsetMs: Double?, log: String) -> RoundEvaluator.RankInput {
        var scanner = PerfLogScanner()
        scanner.consume(Array(log.utf8))
        scanner.finish()
        return RoundEvaluator.RankInput(
            rank: rank, nodeRank: rank, host: host, log: "c/round1/\(host)_noderank\(rank)/rank\(rank).out.log",
            exit: RankExit(rank: rank, exitCode: 0),
            scan: PerfLogScanResult(events: scanner.takeEvents(), report: scanner.report), clockOffsetMs: offsetMs)
    }

    static func log(_ times: [Int?]) -> String {
        times.enumerated().map { step, time in
            let metadata = time.map { #"{"time_ms": \#($0), "rank": 0}"# } ?? #"{"rank": 0}"#
            return #"[PerfLog] {"event": "STEP_END", "value": {"step": \#(step)}, "metadata": \#(metadata)}"#
        }.joined(separator: "\n") + "\n"
    }

    @Test func firstAndLastEventTimesHaveTheHostsOffsetSubtracted() {
        // h2's clock runs 250 ms ahead of the controller's: its events, logged at the same
        // instants as h1's, carry times 250 ms later.
        let result = RoundEvaluator.evaluate(
            round: 1,
            ranks: [
                Self.input(rank: 0, host: "h1", offsetMs: 0.5, log: Self.log([nil, 1_763_900_000_000, 1_763_900_004_000, nil])),
                Self.input(rank: 1, host: "h2", offsetMs: 250, log: Self.log([1_763_900_000_250, 1_763_900_004_250])),
                Self.input(rank: 2, host: "h3", offsetMs: nil, log: Self.log([1_763_900_000_000])),
                Self.input(rank: 3, host: "h4", offsetMs: 1, log: Self.log([nil])),
            ],
            metrics: [], startedAt: "s", endedAt: "e", durationSeconds: 1)
        #expect(result.ranks[0].firstEventMs == 1_763_899_999_999.5)
        #expect(result.ranks[0].lastEventMs == 1_763_900_003_999.5)
        #expect(result.ranks[1].firstEventMs == 1_763_900_000_000)
        #expect(result.ranks[1].lastEventMs == 1_763_900_004_000)
        #expect(result.ranks[1].clockOffsetMs == 250)
        // not measured: the host's own times, and no offset recorded
        #expect(result.ranks[2].firstEventMs == 1_763_900_000_000)
        #expect(result.ranks[2].clockOffsetMs == nil)
        #expect(result.ranks[3].firstEventMs == nil && result.ranks[3].lastEventMs == nil)
    }
}
