import ArgumentParser
import Foundation
import PerfCore

/// `perf-bench perflog`: the PerfLog scanner against the targets of its issue, side by side with
/// a Python `str.find` + `json.loads` loop.
struct PerfLogBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perflog",
        abstract: "Measures the PerfLog scanner (one thread) against a Python baseline.",
        discussion: """
            Writes two deterministic synthetic training logs to a temporary directory: "sparse" \
            (1 % of the lines are PerfLog lines, the rest 100-200 bytes of training chatter) and \
            "dense" (every line is a PerfLog line). Each repetition scans each log with the Swift \
            scanner and with \(BaselineScript.relativePath) in both its variants (text, binary) on \
            python3 from PATH and on /usr/bin/python3 (when it exists), alternating whether Swift \
            or Python goes first; ratios are to the fastest Python median. The Swift scanner \
            ("swift") counts the events and drops them, as the Python loop does; their value and \
            metadata dictionaries are built only when read, so "swift+fields" also reads every \
            event's value and metadata, for information. Reports MB/s (10^6 bytes per second, file \
            reading included) per run, the medians, and PASS/FAIL against the targets: \
            ≥ \(Int(sparseTarget)) MB/s on the sparse log, and ≥ \(Int(denseRatio))× the fastest \
            Python median on the dense log. Exits with status 1 when a target fails or the event \
            counts disagree.
            """)

    static let sparseTarget = 1000.0
    static let denseRatio = 5.0

    @Option(help: "Size of each synthetic log, in MB (10^6 bytes).")
    var sizeMb = 256

    @Option(help: "How many times each log is scanned by each contender.")
    var repetitions = 5

    @Option(help: "The Python baseline script (default: \(BaselineScript.relativePath) of this package).")
    var baseline: String?

    func validate() throws {
        guard sizeMb > 0 else { throw ValidationError("--size-mb must be positive") }
        guard repetitions > 0 else { throw ValidationError("--repetitions must be positive") }
    }

    func run() throws {
        let script = try BaselineScript.locate(explicit: baseline)
        let pythons = PythonInterpreter.available()
        guard !pythons.isEmpty else { throw BenchmarkError("no python3 on PATH and no /usr/bin/python3") }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("perf-bench-perflog-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        print("perf-bench perflog: \(sizeMb) MB per log, \(repetitions) repetitions, one thread per run")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(Self.loadAverage())")
        print("baseline: \(script.path)")
        let logs = try SyntheticPerfLog.Density.allCases.map { density in
            try BenchmarkLog(density: density, in: directory, byteCount: sizeMb * 1_000_000)
        }
        let baselines = pythons.flatMap { python in BaselineScript.modes.map { (python, $0) } }
        var table = ResultTable(contenders: ["swift", "swift+fields"] + baselines.map { "\($0.0.label)/\($0.1)" })
        var interpreters: [String] = []
        var countsAgree = true
        for repetition in 1...repetitions {
            for log in logs {
                // Alternate who goes first, so neither always meets a cold or a warm cache.
                var runs: [ContenderRun] = []
                if repetition % 2 == 1 { runs += try ContenderRun.swiftRuns(log.path) }
                for (python, mode) in baselines {
                    let run = try script.run(python, mode: mode, log: log.path)
                    let note = "\(python.label): Python \(run.python) at \(run.executable)"
                    if !interpreters.contains(note) { interpreters.append(note) }
                    runs.append(
                        ContenderRun(
                            contender: "\(python.label)/\(mode)", events: run.events, badLines: run.badLines,
                            seconds: run.seconds))
                }
                if repetition % 2 == 0 { runs += try ContenderRun.swiftRuns(log.path) }
                var line = "rep \(repetition) \(log.density.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))"
                for run in runs {
                    let rate = Double(log.summary.bytes) / run.seconds / 1e6
                    table.add(rate, for: run.contender, on: log.density)
                    line += "  \(run.contender) \(ResultTable.format(rate))"
                    if run.events != log.expectedEvents || run.badLines != log.summary.truncatedPerfLogLines {
                        countsAgree = false
                        line += " (\(run.events) events, \(run.badLines) bad lines!)"
                    }
                }
                print(line + "  MB/s [\(log.expectedEvents) events, \(log.summary.truncatedPerfLogLines) bad lines]")
            }
        }
        print(interpreters.joined(separator: "\n"))
        let passed = table.printVerdict(sparseTarget: Self.sparseTarget, denseTarget: Self.denseRatio)
        let counts =
            countsAgree ? "every run found the events and bad lines the generator wrote" : "DISAGREE (see above)"
        print("counts: \(counts)")
        print("load average at the end: \(Self.loadAverage())")
        if !passed || !countsAgree { throw ExitCode(1) }
    }

    private static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "unknown"
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

/// One synthetic log of the benchmark, written on creation.
struct BenchmarkLog {
    let density: SyntheticPerfLog.Density
    let path: String
    let summary: SyntheticPerfLog.Summary

    init(density: SyntheticPerfLog.Density, in directory: URL, byteCount: Int) throws {
        self.density = density
        path = directory.appendingPathComponent("\(density.rawValue).log").path
        var generator = SyntheticPerfLog(density: density)
        summary = try generator.write(to: path, byteCount: byteCount)
        print(
            "log \(density.rawValue): \(summary.bytes) bytes, \(summary.lines) lines, "
                + "\(summary.perfLogLines) PerfLog lines (\(summary.truncatedPerfLogLines) cut short)")
    }

    /// Events every contender must find: the PerfLog lines that were not cut short.
    var expectedEvents: Int { summary.perfLogLines - summary.truncatedPerfLogLines }
}

/// One scan of one log by one contender.
struct ContenderRun {
    var contender: String
    var events: Int
    var badLines: Int
    var seconds: Double

    /// The Swift scanner on `path`, reading it in 1 MiB chunks: "swift" counts the events and
    /// drops them; "swift+fields" also reads every event's value and metadata.
    static func swiftRuns(_ path: String) throws -> [ContenderRun] {
        try [false, true].map { readingFields in
            var events = 0
            var members = 0
            var badLines = 0
            let duration = try ContinuousClock().measure {
                badLines = try PerfLogScanner.scan(file: path) { found in
                    events += found.count
                    if readingFields {
                        for event in found { members += event.value.count + event.metadata.count }
                    }
                }.badLineCount
            }
            guard !readingFields || events == 0 || members > 0 else {
                throw BenchmarkError("swift+fields read no value or metadata member in \(path)")
            }
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            let contender = readingFields ? "swift+fields" : "swift"
            return ContenderRun(contender: contender, events: events, badLines: badLines, seconds: seconds)
        }
    }
}

/// MB/s per contender and log, and the verdict on them.
struct ResultTable {
    let contenders: [String]
    private var rates: [String: [SyntheticPerfLog.Density: [Double]]] = [:]

    init(contenders: [String]) {
        self.contenders = contenders
    }

    static func format(_ rate: Double) -> String { String(format: "%7.1f", rate) }

    mutating func add(_ rate: Double, for contender: String, on density: SyntheticPerfLog.Density) {
        rates[contender, default: [:]][density, default: []].append(rate)
    }

    func median(_ contender: String, _ density: SyntheticPerfLog.Density) -> Double {
        let sorted = (rates[contender]?[density] ?? []).sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Prints the medians, the ratios to the fastest Python, and PASS/FAIL per target; true when
    /// both pass.
    func printVerdict(sparseTarget: Double, denseTarget: Double) -> Bool {
        let pythons = contenders.filter { !$0.hasPrefix("swift") }
        var ratios: [SyntheticPerfLog.Density: Double] = [:]
        for density in SyntheticPerfLog.Density.allCases {
            let medians = contenders.map { "\($0) \(Self.format(median($0, density))) MB/s" }
            print("median \(density.rawValue): " + medians.joined(separator: ", "))
            guard let fastest = pythons.max(by: { median($0, density) < median($1, density) }) else { continue }
            print("fastest Python on \(density.rawValue): \(fastest)")
            for swift in contenders.filter({ $0.hasPrefix("swift") }) {
                let ratio = median(swift, density) / median(fastest, density)
                if swift == "swift" { ratios[density] = ratio }
                let shown = String(format: "%.2f", ratio)
                print("ratio \(density.rawValue): \(swift) / \(fastest) = \(shown)×")
            }
        }
        let sparse = median("swift", .sparse)
        let sparsePass = sparse >= sparseTarget
        print(
            "target sparse: swift ≥ \(Int(sparseTarget)) MB/s on one thread: \(Self.verdict(sparsePass)) "
                + "(\(Self.format(sparse).trimmingCharacters(in: .whitespaces)) MB/s)")
        let denseRatio = ratios[.dense] ?? 0
        let densePass = denseRatio >= denseTarget
        print(
            "target dense: swift ≥ \(Int(denseTarget))× the fastest Python: \(Self.verdict(densePass)) "
                + "(\(String(format: "%.2f", denseRatio))×)")
        return sparsePass && densePass
    }

    private static func verdict(_ pass: Bool) -> String { pass ? "PASS" : "FAIL" }
}
