import PerfCore
import PerfWire

/// Measures a host's clock offset against the controller's over a greeted agent
/// session: probes one after another, each timed on the controller's wall clock
/// (t0, t2) and monotonic clock (the round trip), the agent's answer time t1; the
/// probe with the shortest round trip gives the offset and its uncertainty (`ClockOffset`).
enum ClockProbe {
    static let defaultProbes = 8

    static func measure(_ link: NodeLink, probes: Int = defaultProbes) async throws -> ClockOffset {
        var samples: [ClockSample] = []
        for id in 0..<max(1, probes) {
            let t0 = Timestamp.nanosecondsSinceEpoch()
            let sent = ContinuousClock.now
            let reply = try await link.probeClock(ClockProbeRequest(id: id, sentAtNanoseconds: t0))
            let roundTrip = ContinuousClock.now - sent
            let t2 = Timestamp.nanosecondsSinceEpoch()
            guard reply.id == id, reply.controllerSentAtNanoseconds == t0 else {
                throw UserError("the agent answered clock probe \(id) with probe \(reply.id)'s reply",
                                at: "host \(link.node.hostName)")
            }
            samples.append(ClockSample(
                t0: t0, t1: reply.agentClockNanoseconds, t2: t2,
                roundTripNanoseconds: roundTrip.components.seconds * 1_000_000_000 + roundTrip.components.attoseconds / 1_000_000_000))
        }
        return ClockOffset(best: samples)!
    }
}
