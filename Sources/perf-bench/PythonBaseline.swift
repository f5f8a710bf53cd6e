import Foundation

/// A Python interpreter the baseline runs on.
struct PythonInterpreter: Equatable {
    /// How the user knows it: `python3` (from PATH) or its absolute path.
    var label: String
    var path: String

    /// `python3` from PATH, and `/usr/bin/python3` when it exists and is another file.
    static func available(environment: [String: String] = ProcessInfo.processInfo.environment) -> [PythonInterpreter] {
        var interpreters: [PythonInterpreter] = []
        let searchPath = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let found = searchPath.map({ $0 + "/python3" }).first(where: FileManager.default.isExecutableFile(atPath:)) {
            interpreters.append(PythonInterpreter(label: "python3", path: found))
        }
        let system = "/usr/bin/python3"
        if FileManager.default.isExecutableFile(atPath: system),
            !interpreters.contains(where: { resolved($0.path) == resolved(system) })
        {
            interpreters.append(PythonInterpreter(label: system, path: system))
        }
        return interpreters
    }

    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}

/// One run of `benchmarks/perflog_baseline.py`, as it reports it.
struct BaselineRun: Decodable {
    var events: Int
    var badLines: Int
    var seconds: Double
    var python: String
    var executable: String

    enum CodingKeys: String, CodingKey {
        case events
        case badLines = "bad_lines"
        case seconds, python, executable
    }
}

/// The Python baseline script and how to run it.
struct BaselineScript {
    static let relativePath = "benchmarks/perflog_baseline.py"
    /// The script's variants; which is faster depends on the log and the interpreter.
    static let modes = ["text", "binary"]

    var path: String

    /// The script given, or the package's own: looked for from the current directory upwards,
    /// then beside this source file's package (for `swift run` from anywhere).
    static func locate(explicit: String?) throws -> BaselineScript {
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw BenchmarkError("baseline script \(explicit) does not exist")
            }
            return BaselineScript(path: explicit)
        }
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        while true {
            let candidate = directory.appendingPathComponent(relativePath).path
            if FileManager.default.fileExists(atPath: candidate) { return BaselineScript(path: candidate) }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let candidate = packageRoot.appendingPathComponent(relativePath).path
        guard FileManager.default.fileExists(atPath: candidate) else {
            throw BenchmarkError(
                "cannot find \(relativePath): run from the perfctl checkout or pass --baseline PATH")
        }
        return BaselineScript(path: candidate)
    }

    /// Runs the script on `log` with `interpreter`, in `mode` ("text" or "binary").
    func run(_ interpreter: PythonInterpreter, mode: String, log: String) throws -> BaselineRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter.path)
        process.arguments = [path, "--mode", mode, log]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchmarkError("\(interpreter.path) \(path) exited with status \(process.terminationStatus)")
        }
        do {
            return try JSONDecoder().decode(BaselineRun.self, from: data)
        } catch {
            let text = String(decoding: data, as: UTF8.self)
            throw BenchmarkError("cannot read the output of \(interpreter.path) \(path): \(error); it printed: \(text)")
        }
    }
}

/// A benchmark that cannot run, with what to do.
struct BenchmarkError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
