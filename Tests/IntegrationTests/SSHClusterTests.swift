import Foundation
import Testing

/// Multi-host runs over SSH on a real test cluster: hosts are network namespaces with their
/// own sshd, brought up by scripts/testbed/cluster.sh (needs root, as CI is).
@Suite("perfctl run over SSH on namespace hosts", .serialized)
struct SSHClusterTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Brings up `count` hosts, runs `body` with the testbed folder, and tears them down.
    static func withCluster(_ count: Int, _ body: (String) throws -> Void) throws {
        let testbed = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)").path
        let script = repository + "/scripts/testbed/cluster.sh"
        let up = try CommandResult.run("/bin/bash", [script, "up", String(count), testbed], in: "/", environment: [:])
        try #require(up.status == 0, "cluster.sh up failed: \(up.stderr)")
        defer { _ = try? CommandResult.run("/bin/bash", [script, "down", testbed], in: "/", environment: [:]) }
        try body(testbed)
    }

    /// A cluster tree whose cluster.yaml is the testbed's (SSH settings and hosts) plus an agent root.
    static func tree(testbed: String) throws -> ClusterTree {
        let tree = try ClusterTree(caseYAML: """
            framework: shell
            entry: [sh, work.sh]
            args: [two words, "it's", "$HOME;x"]
            nnodes: 2
            nproc_per_node: 2
            metrics:
              - {name: throughput, higher_is_better: true, primary: true}
            """)
        let hosts = try String(contentsOfFile: testbed + "/cluster.yaml", encoding: .utf8)
        try tree.write("cluster.yaml", hosts + "agent_root: \(tree.root)/agent\n")
        return tree
    }

    @Test func fourHostsRunTheirRanksOverSSHAndResultsLandInTheFlagPerfLayout() throws {
        try Self.withCluster(4) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            try tree.write("cases/demo/work.sh", """
                echo "host=$(hostname) rank=$RANK node=$NODE_RANK master=$MASTER_ADDR world=$WORLD_SIZE"
                printf 'arg=[%s]\\n' "$@"
                echo "[PerfLog] {\\"event\\":\\"FINISHED\\",\\"value\\":{\\"throughput\\":$RANK}}"
                """)
            let result = try tree.perfctl(["run", "cases/demo", "--nnodes", "4"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let run = try tree.runDirectory()
            for rank in 0..<8 {
                let node = rank / 2
                let host = "pc\(node + 1)"
                let log = try tree.read("\(run)/demo/round1/\(host)_noderank\(node)/rank\(rank).out.log")
                #expect(log.contains("host=\(host) rank=\(rank) node=\(node) master=10.77.0.11 world=8"))
                #expect(log.contains("arg=[two words]\narg=[it's]\narg=[$HOME;x]\n"), "arguments arrive intact over SSH")
            }
            let record = try tree.json("\(run)/run.json")
            let hosts = try #require(record["hosts"] as? [[String: Any]])
            #expect(hosts.compactMap { $0["hostname"] as? String } == ["pc1", "pc2", "pc3", "pc4"])
        }
    }

    @Test func unknownHostKeyRefusesTheHostWithItsFingerprintAndTheLineToAdd() throws {
        try Self.withCluster(2) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            let knownHosts = try String(contentsOfFile: testbed + "/known_hosts", encoding: .utf8)
            try knownHosts.split(separator: "\n").filter { !$0.hasPrefix("10.77.0.12 ") }
                .joined(separator: "\n").appending("\n").write(toFile: testbed + "/known_hosts", atomically: true, encoding: .utf8)
            let result = try tree.perfctl(["run", "cases/demo"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("10.77.0.12"))
            #expect(result.stderr.contains("SHA256:"))
            #expect(!result.stderr.contains("10.77.0.11:22"), "only the unknown host is refused")
            let record = try tree.json("\(try tree.runDirectory())/run.json")
            #expect(record["status"] as? String == "aborted")
            #expect((record["abortReason"] as? String)?.contains("10.77.0.12") == true)
        }
    }

    @Test func hostWhoseSSHDoesNotAnswerIsNamedWithTheCause() throws {
        try Self.withCluster(2) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            let pid = try String(contentsOfFile: testbed + "/pc2.sshd.pid", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try CommandResult.run("/bin/kill", [pid], in: "/", environment: [:])
            Thread.sleep(forTimeInterval: 0.2)
            let began = Date()
            let result = try tree.perfctl(["run", "cases/demo"])
            #expect(Date().timeIntervalSince(began) < 15)
            #expect(result.status == 2)
            #expect(result.stderr.contains("10.77.0.12:22"))
            #expect(result.stderr.lowercased().contains("refused"))
        }
    }

    @Test func missingAgentOnTheHostIsNamedWithTheFix() throws {
        try Self.withCluster(1) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            let result = try tree.perfctl(["run", "cases/demo", "--nnodes", "1"],
                                          environment: ["PERF_AGENT": "/nonexistent/perf-agent"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("host pc1: error: perf-agent is not installed at /nonexistent/perf-agent on the node"))
            #expect(result.stderr.contains("fix: install it there"))
        }
    }
}
