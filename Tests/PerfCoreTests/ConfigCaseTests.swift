import Foundation
import Testing

@testable import PerfCore

@Suite struct ConfigCaseTests {
    private func caseProblems(_ text: String) throws -> (file: String, problems: [UserError]) {
        let tree = try ConfigTree(cases: ["demo": text])
        let problems = ConfigTree.problems { () throws(UserErrors) in try ConfigLoader.loadCase(directory: tree.path("cases/demo")) }
        return (tree.path("cases/demo/case.yaml"), problems)
    }

    @Test func loadsSettingsPresetsAndMetricsWithDefaults() throws {
        let tree = try ConfigTree(cases: ["llm": """
            description: a test case
            framework: pytorch
            entry: [python3, train.py]
            args: [--steps, 100, --lr, 1e-3]
            env: {OMP_NUM_THREADS: "4"}
            dtype: fp32
            default_preset: big
            presets:
              big:
                nnodes: 2
                env: {EXTRA: "yes"}
            metrics:
              - {name: tokens_per_second, higher_is_better: true, primary: true, unit: tokens/s}
              - {name: loss, higher_is_better: false}

            """])
        let config = try ConfigLoader.loadCase(directory: tree.path("cases/llm"))
        #expect(config.name == "llm")
        #expect(config.directory == tree.path("cases/llm"))
        #expect(config.file == tree.path("cases/llm/case.yaml"))
        #expect(config.description == "a test case")
        #expect(config.settings == CaseSettings(
            entry: ["python3", "train.py"], args: ["--steps", "100", "--lr", "1e-3"], env: ["OMP_NUM_THREADS": "4"],
            nnodes: 1, nprocPerNode: 1, rounds: 1, roundTimeout: 3600, dtype: "fp32"))
        #expect(config.defaultPreset == "big")
        #expect(config.presets == ["big": CaseOverrides(env: ["EXTRA": "yes"], nnodes: 2)])
        #expect(config.metrics == [
            MetricSpec(name: "tokens_per_second", higherIsBetter: true, primary: true, unit: "tokens/s"),
            MetricSpec(name: "loss", higherIsBetter: false),
        ])
        #expect(config.source["presets.big.nnodes"]?.description == "\(tree.path("cases/llm/case.yaml")):10:13")
    }

    @Test func nprocPerNodeZeroIsImpossible() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            nproc_per_node: 0

            """)
        expectOneProblem(problems, at: "\(file):3:17",
                         message: ["`nproc_per_node` is 0, but it must be a whole number ≥ 1"],
                         fix: ["write a whole number ≥ 1, e.g. `nproc_per_node: 2`"])
    }

    @Test func negativeRoundsInAPresetNamesThePresetPath() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            presets:
              quick: {rounds: -2}

            """)
        expectOneProblem(problems, at: "\(file):4:19",
                         message: ["`presets.quick.rounds` is -2, but it must be a whole number ≥ 1"], fix: ["`rounds: 3`"])
    }

    @Test func roundTimeoutMustBeAPositiveNumberOfSeconds() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            round_timeout: 0

            """)
        expectOneProblem(problems, at: "\(file):3:16",
                         message: ["`round_timeout` is 0, but it must be a finite number > 0"], fix: ["`round_timeout: 600`"])
    }

    @Test func environmentNumberMustBeQuoted() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            env:
              OMP_NUM_THREADS: 1
              DEBUG: true

            """)
        #expect(problems.count == 2, "\(problems)")
        expectProblem(problems[0], at: "\(file):4:20",
                      message: ["`env.OMP_NUM_THREADS` must be a string, but it is the whole number 1"],
                      fix: ["quote it: `OMP_NUM_THREADS: \"1\"`"])
        expectProblem(problems[1], at: "\(file):5:10",
                      message: ["`env.DEBUG` must be a string, but it is the boolean true"], fix: ["quote it: `DEBUG: \"true\"`"])
    }

    @Test func environmentNameMustBeAVariableName() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            env: {"MY-VAR": "1"}

            """)
        expectOneProblem(problems, at: "\(file):3:7",
                         message: ["`MY-VAR` in `env` is not a valid environment variable name"], fix: ["letters, digits and `_`"])
    }

    @Test func entryWrittenAsOneStringIsShownAsAList() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: python3 train.py --fast

            """)
        expectOneProblem(problems, at: "\(file):2:8",
                         message: ["`entry` must be a list of strings, but it is the string \"python3 train.py --fast\""],
                         fix: ["`entry: [python3, train.py, --fast]`"])
    }

    @Test func missingFrameworkAndEntryAreBothReported() throws {
        let (file, problems) = try caseProblems("""
            description: nothing to run
            rounds: 2

            """)
        #expect(problems.count == 2, "\(problems)")
        expectProblem(problems[0], at: "\(file):1:1", message: ["missing required key `framework`"], fix: ["`framework: pytorch`"])
        expectProblem(problems[1], at: "\(file):1:1", message: ["missing required key `entry`"], fix: ["`entry: [python3, train.py]`"])
    }

    @Test func emptyEntryListIsRefused() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: []

            """)
        expectOneProblem(problems, at: "\(file):2:8", message: ["`entry` is an empty list"], fix: ["`entry: [python3, train.py]`"])
    }

    @Test func duplicateMetricNameIsReportedAtTheSecond() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            metrics:
              - {name: loss, higher_is_better: false}
              - name: loss
                higher_is_better: false

            """)
        expectOneProblem(problems, at: "\(file):5:11",
                         message: ["metric `loss` is listed twice: it is already at line 4, column 12"],
                         fix: ["keep one `name: loss`"])
    }

    @Test func metricNeedsNameAndDirection() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            metrics:
              - {name: loss, higher_is_better: maybe}
              - {unit: s}

            """)
        #expect(problems.count == 3, "\(problems)")
        expectProblem(problems[0], at: "\(file):4:36",
                      message: ["`metrics[0].higher_is_better` must be true or false, but it is the string \"maybe\""],
                      fix: ["`higher_is_better: true`"])
        expectProblem(problems[1], at: "\(file):5:5", message: ["missing required key `name` in `metrics[1]`"], fix: ["`name: throughput`"])
        expectProblem(problems[2], at: "\(file):5:5", message: ["missing required key `higher_is_better` in `metrics[1]`"], fix: [])
    }

    @Test func defaultPresetMustNameAPreset() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            default_preset: smal
            presets:
              small: {rounds: 1}
              large: {rounds: 5}

            """)
        expectOneProblem(problems, at: "\(file):3:17",
                         message: ["`default_preset` is `smal`, but `presets` has no `smal`"], fix: ["did you mean `small`?"])
    }

    @Test func unknownPresetKeySuggestsTheSetting() throws {
        let (file, problems) = try caseProblems("""
            framework: pytorch
            entry: [python3, train.py]
            presets:
              wide:
                nproc: 4

            """)
        expectOneProblem(problems, at: "\(file):5:5",
                         message: ["unknown key `nproc` in `presets.wide`"], fix: ["did you mean `nproc_per_node`?"])
    }

    @Test func caseFolderWithoutCaseFileIsReported() throws {
        let tree = try ConfigTree(cases: [:])
        try FileManager.default.createDirectory(atPath: tree.path("cases/empty"), withIntermediateDirectories: true)
        let problems = ConfigTree.problems { () throws(UserErrors) in try ConfigLoader.loadCase(directory: tree.path("cases/empty")) }
        expectOneProblem(problems, at: tree.path("cases/empty"),
                         message: ["case folder \(tree.path("cases/empty")) has no case.yaml"],
                         fix: ["create \(tree.path("cases/empty/case.yaml"))", "`framework:`", "`entry:`"])
    }
}
