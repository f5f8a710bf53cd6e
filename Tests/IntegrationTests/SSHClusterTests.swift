import Foundation
import Testing

/// Multi-host runs over SSH on a real test cluster: hosts are network namespaces with their
/// own sshd, brought up by scripts/testbed/cluster.sh (needs root, as CI is).
@Suite("perfctl over SSH on namespace hosts", .serialized)
struct SSHClusterTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Brings up `count` hosts, runs `body` with the testbed folder, and tears them down.
    static func withCluster(_ count: Int, _ body: (String) throws -> Void) throws {
        let testbed = "/tmp/tb-\(UUID().uuidString.prefix(8))"
        let script = repository + "/scripts/testbed/cluster.sh"
        let up = try CommandResult.run("/bin/bash", [script, "up", String(count), testbed], in: "/", environment: [:])
        try #require(up.status == 0, "cluster.sh up failed: \(up.stderr)")
        defer { _ = try? CommandResult.run("/bin/bash", [script, "down", testbed], in: "/", environment: [:]) }
        try body(testbed)
    }

    /// A cluster tree whose cluster.yaml is the testbed's (SSH settings and hosts) with an agent
    /// root in the tree: the hosts share it as hosts share an NFS home, each with its own daemon.
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
        let cluster = try String(contentsOfFile: testbed + "/cluster.yaml", encoding: .utf8)
        try tree.write("cluster.yaml", cluster + "agent_root: \(tree.root)/agent\n")
        return tree
    }

    /// `perfctl agent install`, which must succeed.
    static func install(_ tree: ClusterTree) throws {
        let installed = try tree.perfctl(["agent", "install"])
        try #require(installed.status == 0, "install: \(installed.stdout)\n\(installed.stderr)")
    }

    /// Replaces `old`, which must be there, in the tree's cluster.yaml.
    static func edit(_ tree: ClusterTree, replacing old: String, with new: String) throws {
        let text = try tree.read("cluster.yaml")
        try #require(text.contains(old))
        try tree.write("cluster.yaml", text.replacingOccurrences(of: old, with: new))
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
            let install = try tree.perfctl(["agent", "install"])
            #expect(install.status == 0, "stderr: \(install.stderr)")
            #expect(install.stdout.split(separator: "\n").filter { $0.contains("copied") }.count == 4, "\(install.stdout)")
            let again = try tree.perfctl(["agent", "install"])
            #expect(again.stdout.split(separator: "\n").filter { $0.contains("already current") }.count == 4,
                    "a second install copies nothing: \(again.stdout)")

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

            let status = try tree.perfctl(["agent", "status"])
            #expect(status.status == 0, "stderr: \(status.stderr)")
            #expect(status.stdout.split(separator: "\n").filter { $0.contains("idle") }.count == 4, "\(status.stdout)")
            let stop = try tree.perfctl(["agent", "stop"])
            #expect(stop.status == 0, "stderr: \(stop.stderr)")
            let after = try tree.perfctl(["agent", "status"])
            #expect(after.status == 1)
            #expect(after.stdout.split(separator: "\n").filter { $0.contains("no daemon runs") }.count == 4, "\(after.stdout)")
        }
    }

    @Test func preflightNamesEveryFailingHostWithTheStepAndTheCause() throws {
        try Self.withCluster(3) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            try Self.install(tree)
            // pc2: no agent under its own agent root; pc3: its link is down.
            try Self.edit(tree, replacing: "{name: pc2, address: 10.77.0.12}", with: "{name: pc2, address: 10.77.0.12, agent_root: \(tree.root)/pc2-agent}")
            _ = try CommandResult.run("/usr/sbin/ip", ["link", "set", "v-pc3", "down"], in: "/", environment: [:])
            let began = Date()
            let result = try tree.perfctl(["preflight", "cases/demo", "--nnodes", "3"])
            #expect(Date().timeIntervalSince(began) < 25, "a dead host fails within its connect timeout")
            #expect(result.status == 1)
            #expect(result.stderr.contains("host pc2 (10.77.0.12): error: SSH login") == false)
            #expect(result.stderr.contains("host pc2 (10.77.0.12): error: starting perf-agent: perf-agent is not installed at \(tree.root)/pc2-agent/bin/perf-agent"),
                    "\(result.stderr)")
            #expect(result.stderr.contains("fix: run `perfctl agent install`"))
            #expect(result.stderr.contains("host pc3 (10.77.0.13): error: SSH login:"), "\(result.stderr)")
            #expect(result.stdout.contains("pc1 (10.77.0.11): preflight passed"), "\(result.stdout)")
            #expect(result.stdout.contains("passed entry: /usr/bin/sh") || result.stdout.contains("passed entry: /bin/sh"))
        }
    }

    @Test func agentOfAnotherProtocolVersionIsRefusedWithTheFix() throws {
        try Self.withCluster(1) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            let root = tree.root + "/old-agent"
            try Self.edit(tree, replacing: "agent_root: \(tree.root)/agent", with: "agent_root: \(root)")
            // An agent from the future: reads the hello frame, answers as protocol 99.
            try tree.write("old-agent/bin/perf-agent", #"""
                #!/usr/bin/env python3
                import json, struct, sys
                size = struct.unpack(">I", sys.stdin.buffer.read(4))[0]
                sys.stdin.buffer.read(size)
                body = {"protocolVersion": 99, "agentVersion": "9.9.9", "hostname": "pc1", "pid": 1,
                        "agentClockNanoseconds": 0, "runtimes": ["process"]}
                frame = json.dumps({"type": "hello", "body": body}).encode()
                sys.stdout.buffer.write(struct.pack(">I", len(frame)) + frame)
                sys.stdout.buffer.flush()
                """#)
            chmod(root + "/bin/perf-agent", 0o755)
            let result = try tree.perfctl(["run", "cases/demo", "--nnodes", "1"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("perf-agent 9.9.9 speaks agent protocol 99, this perfctl"), "\(result.stderr)")
            #expect(result.stderr.contains("fix: run `perfctl agent install`"))
        }
    }

    @Test func agentRootWithShellMetacharactersIsQuotedEverywhere() throws {
        try Self.withCluster(1) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            let strange = "\(tree.root)/a b;touch /tmp/pw;'$(id)"
            try Self.edit(tree, replacing: "agent_root: \(tree.root)/agent", with: "agent_root: \"\(strange)\"")
            try Self.install(tree)
            let result = try tree.perfctl(["run", "cases/demo", "--nnodes", "1"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: strange + "/bin/perf-agent"))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/pw"), "nothing ran from the path")
            _ = try tree.perfctl(["agent", "stop"])
        }
    }

    @Test func hostNameWithShellMetacharactersIsAConfigErrorBeforeAnyConnection() throws {
        try Self.withCluster(1) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            try Self.edit(tree, replacing: "address: 10.77.0.11}", with: "address: \"10.77.0.11;touch${IFS}/tmp/pwned-perfctl\"}")
            let result = try tree.perfctl(["run", "cases/demo", "--nnodes", "1"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("cluster.yaml:"), "names the file and position: \(result.stderr)")
            #expect(result.stderr.contains("contains `;`"))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned-perfctl"))
        }
    }

    @Test func sameHostListedTwiceIsAConfigError() throws {
        try Self.withCluster(2) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            try Self.edit(tree, replacing: "{name: pc2, address: 10.77.0.12}", with: "{name: pc2, address: 10.77.0.11}")
            let result = try tree.perfctl(["run", "cases/demo"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("the same machine as `hosts[0]`"), "\(result.stderr)")
        }
    }

    @Test func unknownHostKeyRefusesTheHostWithItsFingerprintAndTheLineToAdd() throws {
        try Self.withCluster(2) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            try Self.install(tree)
            let knownHosts = try String(contentsOfFile: testbed + "/known_hosts", encoding: .utf8)
            try knownHosts.split(separator: "\n").filter { !$0.hasPrefix("10.77.0.12 ") }
                .joined(separator: "\n").appending("\n").write(toFile: testbed + "/known_hosts", atomically: true, encoding: .utf8)
            let result = try tree.perfctl(["run", "cases/demo"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("host pc2 (10.77.0.12): error: SSH login:"), "\(result.stderr)")
            #expect(result.stderr.contains("SHA256:"))
            #expect(!result.stderr.contains("host pc1"), "only the unknown host is refused")
            let record = try tree.json("\(try tree.runDirectory())/run.json")
            #expect(record["status"] as? String == "aborted")
            #expect((record["abortReason"] as? String)?.contains("10.77.0.12") == true)
        }
    }

    @Test func changedHostKeyIsRefusedLoudly() throws {
        try Self.withCluster(2) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            // pc2's entry now carries pc1's key: to the client, pc2's key changed.
            let lines = try String(contentsOfFile: testbed + "/known_hosts", encoding: .utf8).split(separator: "\n")
            let pc1Key = try #require(lines.first { $0.hasPrefix("10.77.0.11 ") }).split(separator: " ").dropFirst().joined(separator: " ")
            let edited = lines.map { $0.hasPrefix("10.77.0.12 ") ? "10.77.0.12 \(pc1Key)" : String($0) }
            try (edited.joined(separator: "\n") + "\n").write(toFile: testbed + "/known_hosts", atomically: true, encoding: .utf8)
            let result = try tree.perfctl(["agent", "status"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("host pc2 (10.77.0.12): error: SSH login:"), "\(result.stderr)")
            #expect(result.stderr.uppercased().contains("CHANGED"), "\(result.stderr)")
        }
    }

    @Test func wrongUserUnauthorisedKeyAndRSAKeyAreEachNamed() throws {
        try Self.withCluster(1) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            let original = try tree.read("cluster.yaml")

            try tree.write("cluster.yaml", original.replacingOccurrences(of: "user: root", with: "user: nobody-here"))
            let wrongUser = try tree.perfctl(["agent", "status"])
            #expect(wrongUser.status == 1)
            #expect(wrongUser.stderr.contains("host pc1 (10.77.0.11): error: SSH login:"), "\(wrongUser.stderr)")
            #expect(wrongUser.stderr.contains("nobody-here"))

            let stranger = tree.root + "/stranger_ed25519"
            _ = try CommandResult.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", stranger], in: "/", environment: [:])
            try tree.write("cluster.yaml", original.replacingOccurrences(of: "\(testbed)/id_ed25519", with: stranger))
            let unauthorised = try tree.perfctl(["agent", "status"])
            #expect(unauthorised.status == 1)
            #expect(unauthorised.stderr.contains("stranger_ed25519"), "\(unauthorised.stderr)")

            let rsa = tree.root + "/id_rsa"
            _ = try CommandResult.run("/usr/bin/ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa], in: "/", environment: [:])
            try tree.write("cluster.yaml", original.replacingOccurrences(of: "\(testbed)/id_ed25519", with: rsa))
            let rsaResult = try tree.perfctl(["agent", "status"])
            #expect(rsaResult.status == 1)
            #expect(rsaResult.stderr.contains("RSA"), "\(rsaResult.stderr)")
            #expect(rsaResult.stderr.contains("ed25519"), "says what to use instead")
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
            #expect(result.stderr.contains("host pc2 (10.77.0.12): error: SSH login:"), "\(result.stderr)")
            #expect(result.stderr.lowercased().contains("refused"))
        }
    }

    @Test func llama2TinyTrainsOnFourHostsTimesTwoRanks() throws {
        try Self.withCluster(4) { testbed in
            // The testbed's hosts with the repository's cases and vendors; the vendor's PATH
            // takes python3 from ${PERF_HOME}/.venv, PERF_HOME being the cluster file's folder.
            let cluster = testbed + "/llama.yaml"
            let text = try String(contentsOfFile: testbed + "/cluster.yaml", encoding: .utf8)
            try (text + "cases_dir: \(Self.repository)/cases\nvendors_dir: \(Self.repository)/vendors\nresults_dir: \(testbed)/results\n")
                .write(toFile: cluster, atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: testbed + "/.venv", withDestinationPath: Self.repository + "/.venv")
            let perfctl = try ClusterTree.executable("perfctl")
            let install = try CommandResult.run(perfctl, ["agent", "install", "--cluster", cluster], in: Self.repository, environment: [:])
            try #require(install.status == 0, "\(install.stdout)\n\(install.stderr)")
            let run = try CommandResult.run(
                perfctl, ["run", "cases/llama2_7b", "--cluster", cluster, "--nnodes", "4", "--rounds", "1"],
                in: Self.repository, environment: [:])
            #expect(run.status == 0, "stdout: \(run.stdout)\nstderr: \(run.stderr)")
            let runs = try FileManager.default.contentsOfDirectory(atPath: testbed + "/results")
            let round = testbed + "/results/" + (try #require(runs.first)) + "/llama2_7b/round1"
            let data = try Data(contentsOf: URL(fileURLWithPath: round + "/result.json"))
            let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(result["verdict"] as? String == "passed", "failures: \(result["failures"] ?? "")")
            let ranks = try #require(result["ranks"] as? [[String: Any]])
            #expect(ranks.count == 8)
            let values = try #require(result["values"] as? [String: Double])
            #expect((values["tokens_per_second"] ?? 0) > 0)
            for node in 0..<4 {
                let log = try String(contentsOfFile: round + "/pc\(node + 1)_noderank\(node)/rank\(2 * node + 1).out.log", encoding: .utf8)
                #expect(log.contains("FINISHED") || log.contains("TRAIN_END"), "rank \(2 * node + 1) trained")
            }
        }
    }

    @Test func agentKilledMidRoundFailsThatRoundNamingTheHostAndTheNextRoundRuns() throws {
        try Self.withCluster(2) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            try tree.write("cases/demo/work.sh", """
                echo "rank $RANK round $PERF_ROUND"
                if [ "$PERF_ROUND" = 1 ]; then exec sleep 600; fi
                echo "[PerfLog] {\\"event\\":\\"FINISHED\\",\\"value\\":{\\"throughput\\":$RANK}}"
                """)
            try Self.install(tree)
            let run = try tree.startPerfctl(
                ["run", "cases/demo", "--rounds", "2", "--kill-grace", "1"], waitingFor: "demo/round1/pc2_noderank1/rank3.out.log")
            let pid = try #require(Int32(try tree.read("agent/hosts/pc2/agent.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
            let killed = Date()
            kill(pid, SIGKILL)
            run.waitUntilExit()
            #expect(Date().timeIntervalSince(killed) < 30, "round 1 failed and round 2 ran within 30 s")
            #expect(run.terminationStatus == 1, "one round failed")
            let id = try tree.runDirectory()
            let first = try tree.json("\(id)/demo/round1/result.json")
            #expect(first["verdict"] as? String == "failed")
            let failures = (first["failures"] as? [String]) ?? []
            #expect(failures.contains { $0.contains("host pc2") && $0.contains("closed") }, "\(failures)")
            let second = try tree.json("\(id)/demo/round2/result.json")
            #expect(second["verdict"] as? String == "passed", "\(second["failures"] ?? "")")
            let record = try tree.json("\(id)/run.json")
            let hosts = try #require(record["hosts"] as? [[String: Any]])
            #expect(hosts[1]["reconnects"] as? Int == 1)
            let leftovers = try CommandResult.run("/usr/bin/pgrep", ["-f", "sleep 600"], in: "/", environment: [:])
            #expect(leftovers.stdout.isEmpty, "the dead agent's ranks were reaped by its successor: \(leftovers.stdout)")
            _ = try tree.perfctl(["agent", "stop"])
        }
    }

    static func link(_ host: String, _ state: String) throws {
        _ = try CommandResult.run("/usr/sbin/ip", ["link", "set", "v-\(host)", state], in: "/", environment: [:])
    }

    @Test func nodeSilentPastTheHeartbeatTimeoutIsNamedAndTheRunEndsWithBothCauses() throws {
        try Self.withCluster(2) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            try tree.write("cluster.yaml", try tree.read("cluster.yaml") + "heartbeat_timeout: 4\n")
            try tree.write("cases/demo/work.sh", """
                echo "rank $RANK round $PERF_ROUND"
                if [ "$PERF_ROUND" = 1 ]; then exec sleep 600; fi
                echo "[PerfLog] {\\"event\\":\\"FINISHED\\",\\"value\\":{\\"throughput\\":$RANK}}"
                """)
            try Self.install(tree)
            let run = try tree.startPerfctl(
                ["run", "cases/demo", "--rounds", "2", "--kill-grace", "1"], waitingFor: "demo/round1/pc2_noderank1/rank3.out.log")
            let down = Date()
            try Self.link("pc2", "down")
            defer { try? Self.link("pc2", "up") }
            run.waitUntilExit()
            // 4 s of silence, 5 s for the dead link's goodbye, the reconnect's 10 s connect timeout, results.
            #expect(Date().timeIntervalSince(down) < 45)
            #expect(run.terminationStatus == 1)
            let id = try tree.runDirectory()
            let first = try tree.json("\(id)/demo/round1/result.json")
            let failures = (first["failures"] as? [String]) ?? []
            #expect(failures.contains { $0.contains("host pc2") && $0.contains("stopped answering: nothing for 4 s") }, "\(failures)")
            let record = try tree.json("\(id)/run.json")
            let reason = record["abortReason"] as? String ?? ""
            #expect(reason.contains("stopped answering") && reason.contains("reaching it again failed"), "\(reason)")
            #expect(reason.contains("10.77.0.12"), "the reconnect's cause names the host: \(reason)")
        }
    }

    @Test func linkDownForThreeSecondsMidRoundLosesNoLine() throws {
        try Self.withCluster(2) { testbed in
            let tree = try Self.tree(testbed: testbed)
            defer { tree.remove() }
            try tree.write("cases/demo/work.sh", """
                i=1
                while [ $i -le 80 ]; do echo "rank $RANK line $i"; i=$((i + 1)); sleep 0.1; done
                echo "[PerfLog] {\\"event\\":\\"FINISHED\\",\\"value\\":{\\"throughput\\":$RANK}}"
                """)
            try Self.install(tree)
            let run = try tree.startPerfctl(["run", "cases/demo"], waitingFor: "demo/round1/pc2_noderank1/rank3.out.log")
            Thread.sleep(forTimeInterval: 1)
            try Self.link("pc2", "down")
            Thread.sleep(forTimeInterval: 3)
            try Self.link("pc2", "up")
            run.waitUntilExit()
            #expect(run.terminationStatus == 0, "the round passed through the outage")
            let id = try tree.runDirectory()
            for rank in 2...3 {
                let log = try tree.read("\(id)/demo/round1/pc2_noderank1/rank\(rank).out.log")
                let expected = (1...80).map { "rank \(rank) line \($0)\n" }.joined()
                #expect(log.hasPrefix(expected), "rank \(rank): every line once, in order")
            }
        }
    }
}
