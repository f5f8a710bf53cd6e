import PerfCore
import Testing

@Suite("plan: case × preset × vendor × hosts")
struct PlannerTests {
    static func cluster(hosts: [String] = ["node-a", "node-b"]) -> ClusterConfig {
        ClusterConfig(
            file: "/lab/cluster.yaml", vendor: "acme", resultsDirectory: "/lab/results", casesDirectory: "/lab/cases",
            vendorsDirectory: "/lab/vendors", masterPort: 29600,
            hosts: hosts.map { HostConfig(name: $0, address: "10.0.0.\($0.count)\(hosts.firstIndex(of: $0) ?? 0)") })
    }

    static let vendor = VendorConfig(
        name: "acme", file: "/lab/vendors/acme/vendor.yaml", visibleDevicesEnv: "ACME_VISIBLE_DEVICES",
        devicesPerNode: 4, peakFlops: ["bf16": 1e15, "fp32": 5e13], env: ["VENDOR_FLAG": "1", "SHARED": "vendor"])

    static let caseConfig = CaseConfig(
        name: "demo", directory: "/lab/cases/demo", file: "/lab/cases/demo/case.yaml", framework: "pytorch",
        settings: CaseSettings(entry: ["python3", "train.py"], args: ["--steps", "10"], env: ["SHARED": "case"],
                               nnodes: 2, nprocPerNode: 2, rounds: 3, roundTimeout: 600, dtype: "bf16"),
        defaultPreset: "small",
        presets: ["small": CaseOverrides(args: ["--steps", "2"], env: ["SMALL": "yes"], rounds: 2),
                  "big": CaseOverrides(nprocPerNode: 4, dtype: "fp32")],
        metrics: [MetricSpec(name: "throughput", higherIsBetter: true, primary: true)])

    @Test func everyRankGetsTheStandardDistributedEnvironment() throws {
        let plan = try Planner.plan(cluster: Self.cluster(), case: Self.caseConfig, vendor: Self.vendor,
                                    preset: nil, overrides: CaseOverrides(), runID: "run-1")
        #expect(plan.nodes.count == 2)
        #expect(plan.worldSize == 4)
        let rank3 = plan.nodes[1].ranks[1]
        #expect(rank3.rank == 3 && rank3.localRank == 1)
        let env = rank3.environment
        #expect(env["MASTER_ADDR"] == plan.nodes[0].address)
        #expect(env["MASTER_PORT"] == "29600")
        #expect(env["NNODES"] == "2")
        #expect(env["NODE_RANK"] == "1")
        #expect(env["NPROC_PER_NODE"] == "2")
        #expect(env["WORLD_SIZE"] == "4")
        #expect(env["RANK"] == "3")
        #expect(env["LOCAL_RANK"] == "1")
        #expect(env["PERF_RUN_ID"] == "run-1")
        #expect(env["PERF_CASE"] == "demo")
        #expect(env["PERF_PRESET"] == "small")
        #expect(env["PERF_HOME"] == "/lab")
        #expect(env["PERF_CASE_DIR"] == "/lab/cases/demo")
        #expect(env["PERF_PEAK_FLOPS"].flatMap(Double.init) == 1e15)
        #expect(env["ACME_VISIBLE_DEVICES"] == "0,1")
        #expect(env["VENDOR_FLAG"] == "1")
        #expect(env["SHARED"] == "case", "the case's env wins over the vendor's")
        #expect(env["SMALL"] == "yes")
        #expect(env["PERF_ROUND"] == nil, "the agent sets PERF_ROUND per round")
        #expect(rank3.argv == ["python3", "train.py", "--steps", "2"])
        #expect(rank3.workingDirectory == "/lab/cases/demo")
        #expect(plan.rounds == 2)
    }

    @Test func commandLineOverridesWinOverThePreset() throws {
        let plan = try Planner.plan(
            cluster: Self.cluster(), case: Self.caseConfig, vendor: Self.vendor, preset: "big",
            overrides: CaseOverrides(nnodes: 1, rounds: 5), runID: "r")
        #expect(plan.nodes.count == 1)
        #expect(plan.nprocPerNode == 4)
        #expect(plan.rounds == 5)
        #expect(plan.peakFlopsPerRank == 5e13)
        #expect(plan.nodes[0].ranks.map(\.environment["ACME_VISIBLE_DEVICES"]) == Array(repeating: "0,1,2,3", count: 4))
    }

    @Test func unknownPresetListsTheKnownOnes() {
        #expect {
            try Planner.plan(cluster: Self.cluster(), case: Self.caseConfig, vendor: Self.vendor, preset: "huge",
                             overrides: CaseOverrides(), runID: "r")
        } throws: { error in
            let text = "\(error)"
            return text.contains("no preset 'huge'") && text.contains("big, small")
        }
    }

    @Test func moreNodesThanHostsAndMoreRanksThanDevicesAreBothReported() {
        #expect {
            try Planner.plan(cluster: Self.cluster(hosts: ["only"]), case: Self.caseConfig, vendor: Self.vendor,
                             preset: nil, overrides: CaseOverrides(nprocPerNode: 8), runID: "r")
        } throws: { error in
            guard let errors = error as? UserErrors else { return false }
            return errors.errors.count == 2
                && errors.errors[0].message.contains("needs 2 nodes")
                && errors.errors[0].fix?.contains("--nnodes 1") == true
                && errors.errors[1].message.contains("exceeds the 4 devices")
        }
    }

    @Test func siteEnvironmentSitsBetweenVendorAndCase() throws {
        var cluster = Self.cluster()
        cluster.env = ["GLOO_SOCKET_IFNAME": "eth0", "SHARED": "site", "VENDOR_FLAG": "site"]
        let plan = try Planner.plan(cluster: cluster, case: Self.caseConfig, vendor: Self.vendor, preset: nil,
                                    overrides: CaseOverrides(), runID: "r")
        let env = plan.nodes[0].ranks[0].environment
        #expect(env["GLOO_SOCKET_IFNAME"] == "eth0")
        #expect(env["VENDOR_FLAG"] == "site", "the site wins over the vendor")
        #expect(env["SHARED"] == "case", "the case wins over the site")
        cluster.env["WORLD_SIZE"] = "9"
        #expect(throws: UserErrors.self) {
            try Planner.plan(cluster: cluster, case: Self.caseConfig, vendor: Self.vendor, preset: nil,
                             overrides: CaseOverrides(), runID: "r")
        }
    }

    @Test func caseCannotOverrideVariablesPerfctlSets() {
        var config = Self.caseConfig
        config.settings.env["RANK"] = "7"
        #expect {
            try Planner.plan(cluster: Self.cluster(), case: config, vendor: Self.vendor, preset: nil,
                             overrides: CaseOverrides(), runID: "r")
        } throws: { error in "\(error)".contains("env sets RANK") }
    }
}

@Suite("${VAR} expansion on the node")
struct EnvironmentExpansionTests {
    @Test func referencesResolvePlannedLiteralsThenTheNode() {
        let env = EnvironmentExpansion.expand(
            ["PERF_HOME": "/p", "PATH": "${PERF_HOME}/.venv/bin:${PATH}", "X": "${UNSET}-${PERF_HOME}", "Y": "${unterminated"],
            inherited: ["PATH": "/usr/bin", "HOME": "/root"])
        #expect(env["PATH"] == "/p/.venv/bin:/usr/bin")
        #expect(env["X"] == "-/p")
        #expect(env["Y"] == "${unterminated")
        #expect(env["HOME"] == "/root")
    }
}

@Suite("statistics across rounds")
struct StatisticsTests {
    @Test func summaryOfKnownValues() throws {
        let s = try #require(Statistics([2, 4, 4, 4, 5, 5, 7, 9]))
        #expect(s.count == 8)
        #expect(s.mean == 5)
        #expect(s.median == 4.5)
        #expect(s.min == 2 && s.max == 9)
        #expect(abs(s.stddev - 2.138089935) < 1e-9)
        #expect(abs((s.relativeStddevPercent ?? 0) - 42.76179870) < 1e-6)
    }

    @Test func singleValueHasNoSpreadAndNoValuesHaveNoStatistics() throws {
        let one = try #require(Statistics([3]))
        #expect(one.stddev == 0 && one.median == 3)
        #expect(Statistics([]) == nil)
    }
}

@Suite("paths")
struct FilePathsTests {
    @Test func resolveAndNormalize() {
        #expect(FilePaths.resolve("results", against: "/a/b") == "/a/b/results")
        #expect(FilePaths.resolve("../x/./y", against: "/a/b") == "/a/x/y")
        #expect(FilePaths.resolve("/abs", against: "/a") == "/abs")
        #expect(FilePaths.resolve("~/.perf-agent", against: "/a") == "~/.perf-agent")
        #expect(FilePaths.directory(of: "/a/b/c.yaml") == "/a/b")
        #expect(FilePaths.lastComponent(of: "cases/llama2_7b/") == "llama2_7b")
    }
}
