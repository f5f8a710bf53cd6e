import ArgumentParser

/// Options every command shares: which cluster file, where results go.
struct ClusterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The cluster file; relative paths in it start at its folder.", valueName: "file"))
    var cluster = "cluster.yaml"

    @Option(name: .long, help: ArgumentHelp("Results directory (default: the cluster file's results_dir, `results` beside it).", valueName: "dir"))
    var results: String?
}

/// Overrides of the case's settings from the command line.
struct CaseSelection: ParsableArguments {
    @Argument(help: "The case: its folder (cases/llama2_7b) or its name under the cluster's cases folder.")
    var caseName: String

    @Option(help: "Preset of the case to apply (default: the case's default_preset).")
    var preset: String?

    @Option(help: "Number of rounds (overrides the case and preset).")
    var rounds: Int?

    @Option(help: "Nodes to use, first hosts of the cluster file first.")
    var nnodes: Int?

    @Option(name: .customLong("nproc-per-node"), help: "Ranks per node.")
    var nprocPerNode: Int?

    @Option(name: .customLong("round-timeout"), help: "Seconds a round may take before its ranks are stopped.")
    var roundTimeout: Double?
}
