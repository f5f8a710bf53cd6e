import Foundation
import Testing

@testable import PerfCore

@Suite struct ConfigVendorTests {
    private func vendorProblems(_ text: String) throws -> (file: String, problems: [UserError]) {
        let tree = try ConfigTree(vendors: ["gpu": text])
        let problems = ConfigTree.problems { () throws(UserErrors) in
            try ConfigLoader.loadVendor(named: "gpu", in: tree.path("vendors"))
        }
        return (tree.path("vendors/gpu/vendor.yaml"), problems)
    }

    @Test func loadsAContainerVendor() throws {
        let tree = try ConfigTree(vendors: ["gpu": """
            runtime: podman
            image: example/pytorch:1
            visible_devices_env: CUDA_VISIBLE_DEVICES
            devices_per_node: 4
            peak_flops: {bf16: 989e12, fp32: 66.9e12}
            env: {NCCL_DEBUG: WARN}

            """])
        let vendor = try ConfigLoader.loadVendor(named: "gpu", in: tree.path("vendors"))
        #expect(vendor == VendorConfig(
            name: "gpu", file: tree.path("vendors/gpu/vendor.yaml"), runtime: .podman, image: "example/pytorch:1",
            visibleDevicesEnv: "CUDA_VISIBLE_DEVICES", devicesPerNode: 4, peakFlops: ["bf16": 989e12, "fp32": 66.9e12],
            env: ["NCCL_DEBUG": "WARN"]))
    }

    @Test func misspeltRuntimeSuggestsTheRightOne() throws {
        let (file, problems) = try vendorProblems("""
            runtime: dokcer
            image: example/pytorch:1

            """)
        expectOneProblem(problems, at: "\(file):1:10",
                         message: ["`runtime` is \"dokcer\", but it must be one of process, docker, podman"],
                         fix: ["did you mean `runtime: docker`?"])
    }

    @Test func containerRuntimeNeedsAnImage() throws {
        let (file, problems) = try vendorProblems("""
            description: GPUs
            runtime: docker

            """)
        expectOneProblem(problems, at: "\(file):1:1",
                         message: ["missing `image`: runtime `docker` runs every rank in a container image"],
                         fix: ["add `image: ", "`runtime: process`"])
    }

    @Test func visibleDevicesVariableMustBeUpperCase() throws {
        let (file, problems) = try vendorProblems("""
            runtime: process
            visible_devices_env: cuda_visible_devices

            """)
        expectOneProblem(problems, at: "\(file):2:22",
                         message: ["`visible_devices_env` is \"cuda_visible_devices\", but it must be an upper-case"],
                         fix: ["`visible_devices_env: CUDA_VISIBLE_DEVICES`"])
    }

    @Test func peakFlopsMustBePositiveNumbers() throws {
        let (file, problems) = try vendorProblems("""
            runtime: process
            devices_per_node: 0
            peak_flops:
              fp32: -1
              bf16: "9e10"
              fp16: .inf

            """)
        #expect(problems.count == 4, "\(problems)")
        expectProblem(problems[0], at: "\(file):2:19", message: ["`devices_per_node` is 0, but it must be a whole number ≥ 1"],
                      fix: ["`devices_per_node: 8`"])
        expectProblem(problems[1], at: "\(file):4:9", message: ["`peak_flops.fp32` is -1, but it must be a finite number > 0"],
                      fix: ["`fp32: 989e12`"])
        expectProblem(problems[2], at: "\(file):5:9", message: ["`peak_flops.bf16` must be a number > 0, but it is the string \"9e10\""],
                      fix: ["remove the quotes: `bf16: 9e10`"])
        expectProblem(problems[3], at: "\(file):6:9", message: ["`peak_flops.fp16` is .inf"], fix: [])
    }

    @Test func vendorNameThatLeavesTheVendorsFolderIsNotLookedUp() throws {
        let tree = try ConfigTree()
        let problems = ConfigTree.problems { () throws(UserErrors) in
            try ConfigLoader.loadVendor(named: "../vendors/cpu", in: tree.path("vendors"))
        }
        expectOneProblem(problems, at: tree.path("vendors/../vendors/cpu"),
                         message: ["`../vendors/cpu` is not a vendor name: a vendor is a folder directly under \(tree.path("vendors"))"],
                         fix: ["`cpu`"])
    }

    @Test func missingVendorListsTheVendorsThatExist() throws {
        let tree = try ConfigTree(vendors: ["cpu": ConfigTree.vendor, "nvidia": ConfigTree.vendor])
        try FileManager.default.createDirectory(atPath: tree.path("vendors/empty"), withIntermediateDirectories: true)
        let problems = ConfigTree.problems { () throws(UserErrors) in
            try ConfigLoader.loadVendor(named: "amd", in: tree.path("vendors"))
        }
        expectOneProblem(problems, at: tree.path("vendors/amd"),
                         message: ["vendor `amd` does not exist: there is no \(tree.path("vendors/amd/vendor.yaml"))"],
                         fix: ["use one of the vendors in \(tree.path("vendors")): `cpu`, `nvidia`;"])
    }
}
