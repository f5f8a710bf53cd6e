/// Whether a round or run met its checks.
public enum Verdict: String, Sendable, Equatable, Codable {
    case passed, failed
}

/// What one rank did in a round: how it ended and what its PerfLog said.
public struct RankResult: Sendable, Equatable, Codable {
    public var rank: Int
    public var nodeRank: Int
    public var host: String
    /// Path of the rank's log, relative to the run directory.
    public var log: String
    public var exit: RankExit
    /// PerfLog events seen, by name.
    public var eventCounts: [String: Int]
    /// The rank's FINISHED values, if it emitted FINISHED.
    public var finished: [String: JSONValue]?
    /// Parsing statistics, with bad lines counted by reason.
    public var perflog: PerfLogReport
    /// `metadata.time_ms` of the first and last PerfLog events in the log that carry it,
    /// put on the controller's clock (the host's `clockOffsetMs` subtracted), so times of
    /// ranks on different hosts compare. The log itself keeps the host's times.
    public var firstEventMs: Double?
    public var lastEventMs: Double?
    /// The offset subtracted (host clock minus controller clock, ms); nil when the host's
    /// clock was not measured and the times are the host's own.
    public var clockOffsetMs: Double?

    public init(
        rank: Int, nodeRank: Int, host: String, log: String, exit: RankExit, eventCounts: [String: Int],
        finished: [String: JSONValue]?, perflog: PerfLogReport, firstEventMs: Double? = nil, lastEventMs: Double? = nil,
        clockOffsetMs: Double? = nil
    ) {
        self.rank = rank
        self.nodeRank = nodeRank
        self.host = host
        self.log = log
        self.exit = exit
        self.eventCounts = eventCounts
        self.finished = finished
        self.perflog = perflog
        self.firstEventMs = firstEventMs
        self.lastEventMs = lastEventMs
        self.clockOffsetMs = clockOffsetMs
    }
}

/// `<case>/round<k>/result.json`: one round's outcome.
public struct RoundResult: Sendable, Equatable, Codable {
    public var round: Int
    public var verdict: Verdict
    public var startedAt: String
    public var endedAt: String
    public var durationSeconds: Double
    /// Numeric FINISHED values of global rank 0, the authoritative rank.
    public var values: [String: Double]
    /// Why the round failed, one sentence each, naming host and rank.
    public var failures: [String]
    public var ranks: [RankResult]

    public init(
        round: Int, verdict: Verdict, startedAt: String, endedAt: String, durationSeconds: Double,
        values: [String: Double], failures: [String], ranks: [RankResult]
    ) {
        self.round = round
        self.verdict = verdict
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.durationSeconds = durationSeconds
        self.values = values
        self.failures = failures
        self.ranks = ranks
    }

    /// Bad PerfLog lines of all ranks, by reason.
    public var badLines: [String: Int] {
        ranks.reduce(into: [:]) { total, rank in
            for (reason, count) in rank.perflog.badLines { total[reason.rawValue, default: 0] += count }
        }
    }
}
