import Foundation
import PerfWire
import Testing

/// Clock probes on the wire and the offset arithmetic, with recorded numbers: the
/// namespace test hosts share this machine's kernel clock, so a skewed host cannot be
/// made for an end-to-end test.
@Suite("clock alignment: probe messages and offset arithmetic")
struct ClockAlignmentTests {
    @Test func probeAndReplyRoundTrip() throws {
        let probe = ControllerMessage.clockProbe(ClockProbeRequest(id: 3, sentAtNanoseconds: 1_763_900_000_123_456_789))
        let data = try JSONEncoder().encode(probe)
        #expect(String(decoding: data, as: UTF8.self).contains(#""type":"clockProbe""#))
        #expect(try JSONDecoder().decode(ControllerMessage.self, from: data) == probe)

        let reply = AgentMessage.clockReply(ClockReply(
            id: 3, controllerSentAtNanoseconds: 1_763_900_000_123_456_789, agentClockNanoseconds: 1_763_900_000_373_000_000))
        let replyData = try JSONEncoder().encode(reply)
        #expect(String(decoding: replyData, as: UTF8.self).contains(#""type":"clockReply""#))
        #expect(try JSONDecoder().decode(AgentMessage.self, from: replyData) == reply)
    }

    /// A host 250 ms ahead, probed three times (t0, t1, t2 in ns since 1970, recorded).
    static let t = Int64(1_763_900_000_000_000_000)
    static let samples = [
        // round trip 0.9 ms, the agent answered after 0.4 ms: offset 249.95 ms ± 0.45
        ClockSample(t0: t, t1: t + 250_000_000 + 400_000, t2: t + 900_000),
        // round trip 0.3 ms, answered half-way: offset 250 ms ± 0.15 — the best
        ClockSample(t0: t + 5_000_000, t1: t + 5_000_000 + 250_000_000 + 150_000, t2: t + 5_300_000),
        // round trip 12 ms, the request sat 11 ms in a queue: offset 255 ms ± 6
        ClockSample(t0: t + 9_000_000, t1: t + 9_000_000 + 250_000_000 + 11_000_000, t2: t + 21_000_000),
    ]

    @Test func eachSampleIsNTPArithmetic() {
        #expect(Self.samples.map(\.offsetNanoseconds) == [249_950_000, 250_000_000, 255_000_000])
        #expect(Self.samples.map(\.uncertaintyNanoseconds) == [450_000, 150_000, 6_000_000])
        // the NTP form t1 - (t0 + t2) / 2 gives the same
        for sample in Self.samples {
            #expect(sample.offsetNanoseconds == sample.t1 - (sample.t0 + sample.t2) / 2)
        }
    }

    @Test func theShortestRoundTripIsKept() throws {
        for order in [Self.samples, Self.samples.reversed(), [Self.samples[2], Self.samples[1], Self.samples[0]]] {
            let offset = try #require(ClockOffset(best: order))
            #expect(offset == ClockOffset(offsetNanoseconds: 250_000_000, uncertaintyNanoseconds: 150_000, probes: 3))
            #expect(offset.offsetMs == 250)
            #expect(offset.uncertaintyMs == 0.15)
        }
        #expect(ClockOffset(best: []) == nil)
    }

    @Test func theMonotonicRoundTripWinsOverAWallClockStep() {
        // The controller's wall clock stepped back 1 s during the probe; its monotonic clock measured 0.2 ms.
        let sample = ClockSample(t0: Self.t, t1: Self.t + 100_000, t2: Self.t - 1_000_000_000 + 200_000,
                                 roundTripNanoseconds: 200_000)
        #expect(sample.offsetNanoseconds == 0)
        #expect(sample.uncertaintyNanoseconds == 100_000)
    }

    @Test func progressText() {
        #expect(ClockOffset(offsetNanoseconds: 300_000, uncertaintyNanoseconds: 100_000, probes: 8).description == "+0.3 ms ± 0.1")
        #expect(ClockOffset(offsetNanoseconds: -2_340_000, uncertaintyNanoseconds: 40_000, probes: 8).description == "-2.3 ms ± 0.0")
        #expect(ClockOffset(offsetNanoseconds: -4_072, uncertaintyNanoseconds: 108_520, probes: 8).description == "+0.0 ms ± 0.1",
                "no minus sign on a zero")
        #expect(ClockOffset(offsetNanoseconds: 250_000_000, uncertaintyNanoseconds: 12_400_000, probes: 8).description == "+250 ms ± 12")
    }
}
