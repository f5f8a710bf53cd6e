import Foundation
import Testing

@testable import PerfCore

@Suite struct ConfigValidateAllTests {
    /// The repository's root: three levels above this file (Tests/PerfCoreTests/<file>).
    private static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func repositoryDefaultFilesValidate() throws {
        let clusterFile = Self.repository + "/cluster.yaml"
        #expect(ConfigLoader.validateAll(clusterFile: clusterFile) == [])
        let cluster = try ConfigLoader.loadCluster(file: clusterFile)
        #expect(cluster.vendor == "cpu")
        #expect(cluster.hosts == [HostConfig(name: "localhost", address: "localhost")])
        #expect(cluster.masterPort == 29500)
        #expect(cluster.resultsDirectory == Self.repository + "/results")

        let cpu = try ConfigLoader.loadVendor(named: "cpu", in: Self.repository + "/vendors")
        #expect(cpu.runtime == .process)
        #expect(cpu.visibleDevicesEnv == nil)
        #expect(cpu.peakFlops == ["fp32": 1.12e11])
        #expect(cpu.env == ["OMP_NUM_THREADS": "1", "PATH": "${PERF_HOME}/.venv/bin:${PATH}"])

        let nvidia = try ConfigLoader.loadVendor(named: "nvidia", in: Self.repository + "/vendors")
        #expect(nvidia.runtime == .docker)
        #expect(nvidia.visibleDevicesEnv == "CUDA_VISIBLE_DEVICES")
        #expect(nvidia.devicesPerNode == 8)
        #expect(nvidia.peakFlops == ["bf16": 989e12, "fp16": 989e12, "tf32": 494.5e12, "fp32": 66.9e12, "fp8": 1979e12])
    }

    @Test func validTreeHasNoProblems() throws {
        let tree = try ConfigTree()
        #expect(ConfigLoader.validateAll(clusterFile: tree.clusterFile) == [])
    }

    @Test func clusterVendorThatDoesNotExistListsTheVendorsThatDo() throws {
        let tree = try ConfigTree(
            cluster: "vendor: nvdia\nhosts: [{address: localhost}]\n",
            vendors: ["cpu": ConfigTree.vendor, "nvidia": ConfigTree.vendor])
        let problems = ConfigLoader.validateAll(clusterFile: tree.clusterFile)
        expectOneProblem(problems, at: "\(tree.clusterFile):1:9",
                         message: ["vendor `nvdia` does not exist: there is no \(tree.path("vendors/nvdia/vendor.yaml"))"],
                         fix: ["use one of the vendors in \(tree.path("vendors")): `cpu`, `nvidia`"])
    }

    @Test func everyFolderIsCheckedAndProblemsOfAllFilesComeTogether() throws {
        let tree = try ConfigTree(
            cluster: "vendor: cpu\nmaster_port: 0\nhosts: [{address: localhost}]\n",
            vendors: ["cpu": ConfigTree.vendor, "broken": "runtime: rocket\n"],
            cases: ["good": ConfigTree.caseFile, "bad": "framework: pytorch\n"])
        try FileManager.default.createDirectory(atPath: tree.path("cases/notes"), withIntermediateDirectories: true)
        let problems = ConfigLoader.validateAll(clusterFile: tree.clusterFile)
        #expect(problems.count == 4, "\(problems)")
        #expect(problems.map(\.location) == [
            "\(tree.clusterFile):2:14",
            "\(tree.path("vendors/broken/vendor.yaml")):1:10",
            "\(tree.path("cases/bad/case.yaml")):1:1",
            tree.path("cases/notes"),
        ])
    }

    @Test func caseAndPresetNeedingMoreNodesThanHostsPointAtTheirSetting() throws {
        let tree = try ConfigTree(cases: ["demo": """
            framework: pytorch
            entry: [python3, train.py]
            nnodes: 2
            presets:
              wide: {nnodes: 4}
              narrow: {rounds: 2}

            """])
        let problems = ConfigLoader.validateAll(clusterFile: tree.clusterFile)
        let file = tree.path("cases/demo/case.yaml")
        #expect(problems.count == 2, "\(problems)")
        expectProblem(problems[0], at: "\(file):3:9",
                      message: ["`nnodes` is 2, but \(tree.clusterFile) lists 1 host"], fix: ["add hosts", "`nnodes: 1`"])
        expectProblem(problems[1], at: "\(file):5:18",
                      message: ["`presets.wide.nnodes` is 4, but \(tree.clusterFile) lists 1 host"], fix: ["`nnodes: 1`"])
    }

    @Test func ranksPerNodeBeyondTheVendorsDevicesPointAtTheSetting() throws {
        let tree = try ConfigTree(
            cluster: "vendor: gpu\nhosts: [{address: localhost}]\n",
            vendors: ["gpu": "runtime: process\ndevices_per_node: 8\npeak_flops: {bf16: 989e12}\n"],
            cases: ["demo": """
                framework: pytorch
                entry: [python3, train.py]
                presets:
                  full: {nproc_per_node: 16}

                """])
        let problems = ConfigLoader.validateAll(clusterFile: tree.clusterFile)
        expectOneProblem(problems, at: "\(tree.path("cases/demo/case.yaml")):4:26",
                         message: ["`presets.full.nproc_per_node` is 16, but vendor `gpu` has 8 devices per node"],
                         fix: ["`nproc_per_node: 8` or less", "devices_per_node"])
    }

    @Test func dtypeWithoutAVendorPeakPointsAtTheDtype() throws {
        let tree = try ConfigTree(cases: ["demo": """
            framework: pytorch
            entry: [python3, train.py]
            dtype: fp32
            presets:
              half: {dtype: bf16}

            """])
        let problems = ConfigLoader.validateAll(clusterFile: tree.clusterFile)
        expectOneProblem(problems, at: "\(tree.path("cases/demo/case.yaml")):5:17",
                         message: ["`presets.half.dtype` is `bf16`, but vendor `cpu` has no peak FLOP/s for `bf16`",
                                   "its `peak_flops` lists `fp32`"],
                         fix: ["add `bf16: <peak FLOP/s of one device>` under `peak_flops:` in \(tree.path("vendors/cpu/vendor.yaml"))",
                               "or use `dtype: fp32`"])
    }

    @Test func missingCasesFolderIsReported() throws {
        let tree = try ConfigTree(cluster: "vendor: cpu\ncases_dir: benchmarks\nhosts: [{address: localhost}]\n", cases: [:])
        let problems = ConfigLoader.validateAll(clusterFile: tree.clusterFile)
        expectOneProblem(problems, at: "\(tree.clusterFile):2:12",
                         message: ["the cases folder \(tree.path("benchmarks")) does not exist"], fix: ["`cases_dir:`"])
    }

    @Test func missingClusterFileIsTheOnlyProblem() throws {
        let tree = try ConfigTree(cluster: nil)
        let problems = ConfigLoader.validateAll(clusterFile: tree.clusterFile)
        expectOneProblem(problems, at: tree.clusterFile, message: ["cluster.yaml not found"], fix: ["--cluster FILE"])
    }
}
