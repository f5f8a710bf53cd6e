/// Judges a round from its ranks' exits and PerfLog events (ReFrame-style sanity checks,
/// kept apart from the numbers): every rank exited 0, global rank 0 emitted FINISHED,
/// and every primary metric is present and finite.
public enum RoundEvaluator {
    /// One rank's inputs to the evaluation.
    public struct RankInput: Sendable {
        public var rank: Int
        public var nodeRank: Int
        public var host: String
        public var log: String
        public var exit: RankExit
        public var scan: PerfLogScanResult
        /// The rank's host's clock minus the controller's (ms), subtracted from its event times.
        public var clockOffsetMs: Double?

        public init(
            rank: Int, nodeRank: Int, host: String, log: String, exit: RankExit, scan: PerfLogScanResult,
            clockOffsetMs: Double? = nil
        ) {
            self.rank = rank
            self.nodeRank = nodeRank
            self.host = host
            self.log = log
            self.exit = exit
            self.scan = scan
            self.clockOffsetMs = clockOffsetMs
        }
    }

    public static func evaluate(
        round: Int, ranks: [RankInput], metrics: [PlannedMetric], startedAt: String, endedAt: String,
        durationSeconds: Double, extraFailures: [String] = []
    ) -> RoundResult {
        var failures = extraFailures
        let results = ranks.sorted { $0.rank < $1.rank }.map { input -> RankResult in
            if !input.exit.succeeded {
                failures.append("host \(input.host), rank \(input.rank): \(input.exit.summary); see \(input.log)")
            }
            let counts = input.scan.events.reduce(into: [String: Int]()) { $0[$1.name, default: 0] += 1 }
            let finished = input.scan.events.last { $0.name == "FINISHED" }?.value
            // Only the first and last timed events are read: each `timeMs` builds the event's metadata.
            let shift = input.clockOffsetMs ?? 0
            let first = input.scan.events.lazy.compactMap(\.timeMs).first.map { $0 - shift }
            let last = input.scan.events.reversed().lazy.compactMap(\.timeMs).first.map { $0 - shift }
            return RankResult(
                rank: input.rank, nodeRank: input.nodeRank, host: input.host, log: input.log, exit: input.exit,
                eventCounts: counts, finished: finished, perflog: input.scan.report, firstEventMs: first,
                lastEventMs: last, clockOffsetMs: input.clockOffsetMs)
        }
        var values: [String: Double] = [:]
        if let authoritative = results.first(where: { $0.rank == 0 }) {
            if let finished = authoritative.finished {
                for (key, value) in finished {
                    if let number = value.doubleValue, number.isFinite { values[key] = number }
                }
                for metric in metrics where metric.primary && values[metric.name] == nil {
                    failures.append(
                        "host \(authoritative.host), rank 0: FINISHED has no finite value for primary metric '\(metric.name)'; see \(authoritative.log)")
                }
            } else {
                failures.append(
                    "host \(authoritative.host), rank 0: no FINISHED event in its log; see \(authoritative.log)")
            }
        }
        return RoundResult(
            round: round, verdict: failures.isEmpty ? .passed : .failed, startedAt: startedAt, endedAt: endedAt,
            durationSeconds: durationSeconds, values: values, failures: failures, ranks: results)
    }
}
