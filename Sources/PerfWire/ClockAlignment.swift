/// Asks for the agent's wall clock, to measure the host's clock offset (see `ClockOffset`).
public struct ClockProbeRequest: Sendable, Equatable, Codable {
    /// Numbers the probes of one session; echoed in the reply.
    public var id: Int
    /// Controller wall clock, nanoseconds since 1970, when sent.
    public var sentAtNanoseconds: Int64

    public init(id: Int, sentAtNanoseconds: Int64) {
        self.id = id
        self.sentAtNanoseconds = sentAtNanoseconds
    }
}

/// The agent's answer to `ClockProbeRequest`.
public struct ClockReply: Sendable, Equatable, Codable {
    /// The probe's id and send time, echoed.
    public var id: Int
    public var controllerSentAtNanoseconds: Int64
    /// Agent wall clock, nanoseconds since 1970, when it answered.
    public var agentClockNanoseconds: Int64

    public init(id: Int, controllerSentAtNanoseconds: Int64, agentClockNanoseconds: Int64) {
        self.id = id
        self.controllerSentAtNanoseconds = controllerSentAtNanoseconds
        self.agentClockNanoseconds = agentClockNanoseconds
    }
}

/// One clock probe's times: the controller sent at `t0` and received the reply at
/// `t2` (its wall clock), the agent answered at `t1` (the host's wall clock); all in
/// nanoseconds since 1970. `roundTripNanoseconds` is the time between send and receive
/// on the controller's monotonic clock, so a wall-clock step during a probe does not
/// distort it.
public struct ClockSample: Sendable, Equatable, Codable {
    public var t0: Int64
    public var t1: Int64
    public var t2: Int64
    public var roundTripNanoseconds: Int64

    /// - Parameter roundTripNanoseconds: the monotonic round trip; `t2 - t0` when not given.
    public init(t0: Int64, t1: Int64, t2: Int64, roundTripNanoseconds: Int64? = nil) {
        self.t0 = t0
        self.t1 = t1
        self.t2 = t2
        self.roundTripNanoseconds = max(0, roundTripNanoseconds ?? (t2 - t0))
    }

    /// The host's clock minus the controller's, assuming the reply was made half-way
    /// through the round trip: `t1 - (t0 + rtt/2)` (with `rtt = t2 - t0`, NTP's `t1 - (t0 + t2)/2`).
    public var offsetNanoseconds: Int64 { t1 - (t0 + roundTripNanoseconds / 2) }

    /// How far the true offset can be from `offsetNanoseconds`: half the round trip.
    public var uncertaintyNanoseconds: Int64 { roundTripNanoseconds / 2 }
}

/// A host's clock offset against the controller's (host minus controller) and its
/// uncertainty, from the probe with the shortest round trip (NTP's clock filter):
/// the shortest round trip bounds the error most tightly.
public struct ClockOffset: Sendable, Equatable, Codable {
    public var offsetNanoseconds: Int64
    public var uncertaintyNanoseconds: Int64
    /// Probes sent; the kept one had the shortest round trip.
    public var probes: Int

    public init(offsetNanoseconds: Int64, uncertaintyNanoseconds: Int64, probes: Int) {
        self.offsetNanoseconds = offsetNanoseconds
        self.uncertaintyNanoseconds = uncertaintyNanoseconds
        self.probes = probes
    }

    /// The estimate from the sample with the shortest round trip; nil without samples.
    public init?(best samples: [ClockSample]) {
        guard let best = samples.min(by: { $0.roundTripNanoseconds < $1.roundTripNanoseconds }) else { return nil }
        self.init(
            offsetNanoseconds: best.offsetNanoseconds, uncertaintyNanoseconds: best.uncertaintyNanoseconds,
            probes: samples.count)
    }

    public var offsetMs: Double { Double(offsetNanoseconds) / 1e6 }
    public var uncertaintyMs: Double { Double(uncertaintyNanoseconds) / 1e6 }

    /// `+0.3 ms ± 0.1`, for progress lines.
    public var description: String {
        let shown = Self.format(abs(offsetMs))
        let sign = offsetNanoseconds < 0 && shown != "0.0" ? "-" : "+"
        return "\(sign)\(shown) ms ± \(Self.format(uncertaintyMs))"
    }

    private static func format(_ milliseconds: Double) -> String {
        milliseconds >= 10 ? String(Int(milliseconds.rounded())) : String((milliseconds * 10).rounded() / 10)
    }
}
