import Foundation
import PerfCore
import PerfWire
import Testing

@Suite("agent session: clock probes")
struct ClockProbeTests {
    @Test func probeIsAnsweredWithTheAgentsClockAndItsIDEchoed() async throws {
        let agent = try AgentHarness()
        _ = try await agent.greet()
        for id in 0..<3 {
            let t0 = Timestamp.nanosecondsSinceEpoch()
            try agent.controller.send(.clockProbe(ClockProbeRequest(id: id, sentAtNanoseconds: t0)))
            var reply: AgentMessage?
            for try await message in agent.controller.incoming { reply = message; break }
            let t2 = Timestamp.nanosecondsSinceEpoch()
            guard case .clockReply(let answer) = reply else { Issue.record("expected clockReply, got \(String(describing: reply))"); break }
            #expect(answer.id == id)
            #expect(answer.controllerSentAtNanoseconds == t0)
            // one process, one clock: the agent answered between send and receive
            #expect(t0 <= answer.agentClockNanoseconds && answer.agentClockNanoseconds <= t2)
        }
        await agent.close()
    }

    @Test func probeBeforeHelloIsRefused() async throws {
        let agent = try AgentHarness()
        try agent.controller.send(.clockProbe(ClockProbeRequest(id: 0, sentAtNanoseconds: 1)))
        var reply: AgentMessage?
        for try await message in agent.controller.incoming { reply = message; break }
        guard case .failure(let failure) = reply else { Issue.record("expected failure, got \(String(describing: reply))"); return }
        #expect(failure.message == "clockProbe before hello")
        await agent.close()
    }
}
