import ArgumentParser

/// `perf-bench`: benchmarks of perfctl's hot paths, each a subcommand.
@main
struct PerfBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf-bench",
        abstract: "Benchmarks of perfctl's hot paths.",
        subcommands: [PerfLogBenchmark.self, PreflightBenchmark.self, LogsLatencyBenchmark.self])
}
