import Foundation
import Testing

/// The main job, for real: the repository's cluster.yaml (localhost, vendor cpu), the
/// llama2_7b case at preset tiny, PyTorch ranks training with gloo. Needs the `.venv`
/// that scripts/setup.sh makes.
@Suite("llama2_7b tiny on the embedded default")
struct Llama2TinyTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    @Test func oneRoundTrainsAndReportsThroughputMfuAndAFallingLoss() throws {
        let results = FileManager.default.temporaryDirectory.appendingPathComponent("llama-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: results) }
        let perfctl = try ClusterTree.executable("perfctl")
        let run = try CommandResult.run(
            perfctl, ["run", "cases/llama2_7b", "--rounds", "1", "--results", results],
            in: Self.repository, environment: ["PERF_AGENT_IDLE_EXIT": "10"])
        #expect(run.status == 0, "stdout: \(run.stdout)\nstderr: \(run.stderr)")
        #expect(run.stdout.contains("# llama2_7b on cpu"))

        let runs = try FileManager.default.contentsOfDirectory(atPath: results)
        let runDirectory = results + "/" + (try #require(runs.first))
        let data = try Data(contentsOf: URL(fileURLWithPath: runDirectory + "/llama2_7b/round1/result.json"))
        let round = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(round["verdict"] as? String == "passed", "failures: \(round["failures"] ?? "")")
        let values = try #require(round["values"] as? [String: Double])
        #expect((values["tokens_per_second"] ?? 0) > 0)
        #expect((values["mfu"] ?? 0) > 0 && (values["mfu"] ?? 1) < 1)
        let initial = try #require(values["initial_loss"])
        let final = try #require(values["final_loss"])
        #expect(final < initial * 0.8, "loss fell from \(initial) to \(final)")
        let ranks = try #require(round["ranks"] as? [[String: Any]])
        #expect(ranks.count == 2)
        for rank in ranks {
            let counts = try #require(rank["eventCounts"] as? [String: Int])
            for event in ["INIT_START", "INIT_END", "TRAIN_START", "STEP_END", "TRAIN_END", "FINISHED"] {
                #expect((counts[event] ?? 0) > 0, "rank \(rank["rank"] ?? "?") emitted \(event)")
            }
        }
    }
}
