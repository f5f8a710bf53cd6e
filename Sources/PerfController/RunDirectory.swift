import Foundation
import Glibc
import PerfCore

/// Run ids and their directories: `results/<yyyyMMdd-HHmmss>-<case>[-n]`.
enum RunDirectory {
    /// Creates a new, unused run directory and returns its id.
    static func allocate(in results: String, caseName: String, date: Date) throws(UserError) -> String {
        try Directories.create(results)
        let stamp = stampFormatter(date)
        for attempt in 1...1000 {
            let id = attempt == 1 ? "\(stamp)-\(caseName)" : "\(stamp)-\(caseName)-\(attempt)"
            if mkdir(FilePaths.join(results, id), 0o755) == 0 { return id }
            if errno != EEXIST {
                throw UserError("cannot create a run directory in \(results): \(String(cString: strerror(errno)))",
                                fix: "check that the results directory is writable, or pass --results DIR")
            }
        }
        throw UserError("too many runs of \(caseName) in the same second in \(results)")
    }

    /// The newest run id under `results` (ids sort by their start time), if any.
    static func latest(in results: String) -> String? {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []
        return ids.filter { FileManager.default.fileExists(atPath: FilePaths.join(FilePaths.join(results, $0), "run.json")) }
            .max()
    }

    private static func stampFormatter(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&time, &parts)
        return String(format: "%04d%02d%02d-%02d%02d%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}

/// Writes result files as pretty, key-sorted JSON, atomically.
enum ResultsWriter {
    static func write<Value: Encodable>(_ value: Value, to path: String) throws(UserError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw UserError("cannot encode \(path): \(error)")
        }
        try Directories.create(FilePaths.directory(of: path))
        try AtomicFile.write(Array(data) + [UInt8(ascii: "\n")], to: path)
    }
}

/// Picks a run by the id a user typed, or `latest`.
public enum RunSelection {
    /// The run id for `argument` (`latest` or an id with a run.json under `results`).
    public static func resolve(_ argument: String, in results: String) throws(UserError) -> String {
        if argument == "latest" {
            guard let latest = RunDirectory.latest(in: results) else {
                throw UserError("no runs in \(results)", fix: "start one with `perfctl run`, or pass --results DIR")
            }
            return latest
        }
        guard !argument.contains("/"), FileManager.default.fileExists(atPath: FilePaths.join(FilePaths.join(results, argument), "run.json"))
        else {
            let recent = ((try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []).sorted().suffix(5)
            throw UserError(
                "no run \(argument) in \(results)",
                fix: recent.isEmpty ? "pass --results DIR for another results directory"
                    : "use `latest` or one of: \(recent.reversed().joined(separator: ", "))")
        }
        return argument
    }
}
