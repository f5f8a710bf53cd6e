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
