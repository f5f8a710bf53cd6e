import Foundation
import Glibc
import PerfCore

/// One log file of a run, placed by the results layout:
/// `<case>/round<k>/<host>_noderank<n>/rank<R>.out.log` (or `agent.log`, `rank` nil).
public struct RunLogFile: Sendable, Equatable {
    public var caseName: String
    public var round: Int
    public var host: String
    public var nodeRank: Int
    /// Global rank; nil for the node's `agent.log`.
    public var rank: Int?
    public var path: String

    public init(caseName: String, round: Int, host: String, nodeRank: Int, rank: Int?, path: String) {
        self.caseName = caseName
        self.round = round
        self.host = host
        self.nodeRank = nodeRank
        self.rank = rank
        self.path = path
    }
}

/// Which logs to show: every set empty means all.
public struct RunLogFilter: Sendable {
    public var hosts: Set<String>
    public var ranks: Set<Int>
    public var rounds: Set<Int>
    /// Show each node's `agent.log` too (never when ranks are selected).
    public var agentLogs: Bool

    public init(hosts: Set<String> = [], ranks: Set<Int> = [], rounds: Set<Int> = [], agentLogs: Bool = false) {
        self.hosts = hosts
        self.ranks = ranks
        self.rounds = rounds
        self.agentLogs = agentLogs
    }

    func admits(_ file: RunLogFile) -> Bool {
        if !hosts.isEmpty && !hosts.contains(file.host) { return false }
        if !rounds.isEmpty && !rounds.contains(file.round) { return false }
        if let rank = file.rank { return ranks.isEmpty || ranks.contains(rank) }
        return agentLogs && ranks.isEmpty
    }
}

/// Which lines to show: a plain substring, or a regular expression written `/…/`.
public struct RunLogMatcher: @unchecked Sendable {
    private let substring: String?
    private let regex: Regex<AnyRegexOutput>?

    public init(_ pattern: String?) throws(UserError) {
        guard let pattern, !pattern.isEmpty else {
            substring = nil
            regex = nil
            return
        }
        if pattern.count >= 2, pattern.hasPrefix("/"), pattern.hasSuffix("/") {
            let body = String(pattern.dropFirst().dropLast())
            do {
                regex = try Regex(body)
            } catch {
                throw UserError("--grep \(pattern): not a valid regular expression: \(error)",
                                fix: "fix the expression, or drop the surrounding slashes to match the text as it is")
            }
            substring = nil
        } else {
            substring = pattern
            regex = nil
        }
    }

    public func matches(_ line: String) -> Bool {
        if let substring { return line.contains(substring) }
        if let regex { return line.contains(regex) }
        return true
    }
}

/// Line prefixes: `host/rank R | `, `r2 host/rank R | ` when rounds are shown, the
/// prefix coloured per rank when asked (a terminal without NO_COLOR).
public struct RunLogFormatter: Sendable {
    public var showRound: Bool
    public var colour: Bool

    public init(showRound: Bool, colour: Bool) {
        self.showRound = showRound
        self.colour = colour
    }

    private static let palette = [36, 32, 33, 35, 34, 31, 96, 92, 93, 95, 94, 91]

    public func prefix(_ file: RunLogFile) -> String {
        let who = file.rank.map { "\(file.host)/rank \($0)" } ?? "\(file.host)/agent"
        let text = (showRound ? "r\(file.round) " : "") + who + " | "
        guard colour else { return text }
        let code = file.rank.map { "\(Self.palette[$0 % Self.palette.count])" } ?? "2"
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    /// Colour when `fd` is a terminal and NO_COLOR is unset or empty (no-color.org).
    public static func wantsColour(fd: Int32, environment: [String: String]) -> Bool {
        isatty(fd) == 1 && (environment["NO_COLOR"] ?? "").isEmpty
    }
}

/// A run's logs in the results directory: found by id or `latest`, listed by the layout,
/// printed file after file, or followed as the controller writes them.
public struct RunLogs: Sendable {
    public let results: String
    public let runID: String
    public var directory: String { FilePaths.join(results, runID) }

    /// The run `run` (an id, `latest`, or a run directory's path) under `results`.
    public init(results: String, run: String) throws(UserError) {
        if run.contains("/"), FileManager.default.fileExists(atPath: FilePaths.join(run, "run.json")) {
            let trimmed = run.hasSuffix("/") ? String(run.dropLast()) : run
            self.results = FilePaths.directory(of: trimmed)
            self.runID = (trimmed as NSString).lastPathComponent
            return
        }
        let runs = Self.runs(in: results)
        self.results = results
        if run == "latest" {
            guard let newest = runs.last else {
                throw UserError("no runs in \(results)", fix: "start one with `perfctl run <case>`, or pass --results DIR")
            }
            self.runID = newest
        } else if runs.contains(run) {
            self.runID = run
        } else {
            let recent = runs.suffix(5).reversed()
            throw UserError(
                "no run \(run) in \(results)",
                fix: recent.isEmpty
                    ? "start one with `perfctl run <case>`, or pass --results DIR"
                    : "recent runs: \(recent.joined(separator: ", ")) (or `latest`)")
        }
    }

    /// Run ids under `results` (folders holding run.json), oldest first: by run.json's
    /// startedAt, then by name.
    public static func runs(in results: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []
        let runs = names.filter { !$0.hasPrefix(".") && FileManager.default.fileExists(atPath: "\(results)/\($0)/run.json") }
        let started = Dictionary(uniqueKeysWithValues: runs.map { name in
            // ISO 8601 in UTC from one formatter: the strings sort as the times do.
            (name, Self.runJSON(FilePaths.join(results, name))?["startedAt"] as? String ?? "")
        })
        return runs.sorted { (started[$0]!, $0) < (started[$1]!, $1) }
    }

    static func runJSON(_ directory: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: FilePaths.join(directory, "run.json")) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// run.json's status (`running` while the controller works on it).
    public func status() -> String? { Self.runJSON(directory)?["status"] as? String }

    /// Rounds the run plans (run.json's plan.rounds).
    public func plannedRounds() -> Int? { (Self.runJSON(directory)?["plan"] as? [String: Any])?["rounds"] as? Int }

    /// Every log file of the run that `filter` admits, by case, round, node, rank (agent.log last).
    public func files(_ filter: RunLogFilter) -> [RunLogFile] {
        var directories: [String] = []
        return files(filter, directories: &directories)
    }

    /// The files, and every folder of the layout on the way (run, case, round, node).
    func files(_ filter: RunLogFilter, directories: inout [String]) -> [RunLogFile] {
        let manager = FileManager.default
        var found: [RunLogFile] = []
        directories.append(directory)
        for caseName in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] where !caseName.hasPrefix(".") {
            let caseDirectory = FilePaths.join(directory, caseName)
            guard let rounds = try? manager.contentsOfDirectory(atPath: caseDirectory) else { continue }
            directories.append(caseDirectory)
            for roundName in rounds {
                guard roundName.hasPrefix("round"), let round = Int(roundName.dropFirst(5)) else { continue }
                let roundDirectory = FilePaths.join(caseDirectory, roundName)
                directories.append(roundDirectory)
                for nodeName in (try? manager.contentsOfDirectory(atPath: roundDirectory)) ?? [] {
                    guard let marker = nodeName.range(of: "_noderank", options: .backwards),
                          let nodeRank = Int(nodeName[marker.upperBound...]) else { continue }
                    let host = String(nodeName[..<marker.lowerBound])
                    let nodeDirectory = FilePaths.join(roundDirectory, nodeName)
                    directories.append(nodeDirectory)
                    for fileName in (try? manager.contentsOfDirectory(atPath: nodeDirectory)) ?? [] {
                        let rank: Int?
                        if fileName == "agent.log" {
                            rank = nil
                        } else if fileName.hasPrefix("rank"), fileName.hasSuffix(".out.log"),
                                  let number = Int(fileName.dropFirst(4).dropLast(8)) {
                            rank = number
                        } else {
                            continue
                        }
                        let file = RunLogFile(caseName: caseName, round: round, host: host, nodeRank: nodeRank, rank: rank,
                                              path: FilePaths.join(nodeDirectory, fileName))
                        if filter.admits(file) { found.append(file) }
                    }
                }
            }
        }
        return found.sorted {
            ($0.caseName, $0.round, $0.nodeRank, $0.rank ?? Int.max) < ($1.caseName, $1.round, $1.nodeRank, $1.rank ?? Int.max)
        }
    }

    /// Prints the logs once: file after file, each file's matching lines (its last `tail` of them).
    public func print(
        _ filter: RunLogFilter, matcher: RunLogMatcher, tail: Int?, formatter: RunLogFormatter, output: LogOutput
    ) {
        for file in files(filter) {
            var reader = LineReader(path: file.path)
            var kept: [String] = []
            let prefix = formatter.prefix(file)
            reader.readAvailable(final: true) { line in
                guard matcher.matches(line) else { return }
                if let tail {
                    kept.append(line)
                    if kept.count > tail { kept.removeFirst(kept.count - tail) }
                } else {
                    output.write(prefix + line)
                }
            }
            for line in kept { output.write(prefix + line) }
        }
        output.flush()
    }

    /// Prints what exists (each file's last `tail` lines), then keeps reading the files as
    /// they grow — new rank files and rounds too — complete lines only, until run.json says
    /// the run ended and no file grew for `quiet`. Every `interval` it lists the folders and
    /// reads every file; in between, inotify wakes it for the files that were written.
    public func follow(
        _ filter: RunLogFilter, matcher: RunLogMatcher, tail: Int?, formatter: RunLogFormatter, output: LogOutput,
        interval: Duration = .milliseconds(50), quiet: Duration = .seconds(1)
    ) async {
        var readers: [String: (file: RunLogFile, reader: LineReader)] = [:]
        var order: [String] = []
        var firstPass = true
        var rescan = true
        var ended = false
        var dirty = Set<String>()
        let clock = ContinuousClock()
        var lastFull = clock.now - interval
        var lastGrowth = clock.now
        let watcher = DirectoryWatcher()
        defer { watcher?.close() }
        while true {
            let full = clock.now - lastFull >= interval
            if full {
                lastFull = clock.now
                ended = (status() ?? "running") != "running"
            }
            if full || rescan {
                var directories: [String] = []
                for file in files(filter, directories: &directories) where readers[file.path] == nil {
                    readers[file.path] = (file, LineReader(path: file.path))
                    order.append(file.path)
                }
                watcher?.watch(directories)
                rescan = false
            }
            var grew = false
            for path in order where full || dirty.contains(path) {
                guard var entry = readers[path] else { continue }
                let prefix = formatter.prefix(entry.file)
                var kept: [String] = []
                let keepTail = firstPass ? tail : nil
                if entry.reader.readAvailable(final: false, { line in
                    guard matcher.matches(line) else { return }
                    if let keepTail {
                        kept.append(line)
                        if kept.count > keepTail { kept.removeFirst(kept.count - keepTail) }
                    } else {
                        output.write(prefix + line)
                    }
                }) { grew = true }
                for line in kept { output.write(prefix + line) }
                readers[path] = entry
            }
            output.flush()
            firstPass = false
            dirty.removeAll(keepingCapacity: true)
            if grew { lastGrowth = clock.now }
            if full && ended && clock.now - lastGrowth >= quiet {
                // The run is over: a last line without its newline is shown as it is.
                for path in order {
                    guard var entry = readers[path] else { continue }
                    let prefix = formatter.prefix(entry.file)
                    entry.reader.readAvailable(final: true) { line in
                        if matcher.matches(line) { output.write(prefix + line) }
                    }
                }
                output.flush()
                return
            }
            let wait = max(.zero, lastFull + interval - clock.now)
            if let watcher {
                watcher.wait(timeout: wait) { path, created in
                    if created { rescan = true } else { dirty.insert(path) }
                }
            } else {
                try? await Task.sleep(for: wait)
            }
        }
    }
}

/// inotify on the folders of a run: which files were written, and whether something was
/// created (a new rank file, node, round; run.json renamed into place). Nil when inotify
/// cannot be had; follow then reads on its timer alone.
final class DirectoryWatcher {
    private let fd: Int32
    private var watched: [Int32: String] = [:]
    private var paths = Set<String>()

    init?() {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0 { return nil }
    }

    func close() { _ = Glibc.close(fd) }

    func watch(_ directories: [String]) {
        for directory in directories where !paths.contains(directory) {
            let wd = inotify_add_watch(fd, directory, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO))
            if wd >= 0 {
                watched[wd] = directory
                paths.insert(directory)
            }
        }
    }

    /// Waits up to `timeout` for events and hands each out: the file's path, and whether
    /// it was created (or moved in) rather than written.
    func wait(timeout: Duration, _ event: (String, Bool) -> Void) {
        let (seconds, attoseconds) = timeout.components
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(min(seconds * 1000 + attoseconds / 1_000_000_000_000_000, 60_000))
        guard poll(&descriptor, 1, max(milliseconds, 0)) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            var offset = 0
            while offset + 16 <= count {
                let (wd, mask, length) = buffer.withUnsafeBytes { bytes in
                    (bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
                if let directory = watched[wd], !nameBytes.isEmpty {
                    let created = mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0
                    event(FilePaths.join(directory, String(decoding: nameBytes, as: UTF8.self)), created)
                }
                offset += 16 + length
            }
        }
    }
}

/// Where log lines go: a file descriptor, buffered, each line with its newline.
public final class LogOutput: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    public init(fd: Int32 = STDOUT_FILENO) { self.fd = fd }

    public func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { flush() }
    }

    public func flush() {
        var start = 0
        buffer.withUnsafeBytes { bytes in
            while start < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + start, bytes.count - start)
                if written < 0 {
                    if errno == EINTR { continue }
                    start = bytes.count  // a closed pipe (head): nothing more to do
                } else {
                    start += written
                }
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Reads a growing file from its last offset and hands out complete lines.
struct LineReader {
    let path: String
    private(set) var offset: Int64 = 0
    private var partial: [UInt8] = []

    init(path: String) { self.path = path }

    /// Reads what was added since the last call; `final` also hands out a last line
    /// without its newline. Returns whether anything was read.
    @discardableResult
    mutating func readAvailable(final: Bool, _ line: (String) -> Void) -> Bool {
        var grew = false
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                grew = true
                offset += Int64(count)
                var start = 0
                for index in 0..<count where chunk[index] == UInt8(ascii: "\n") {
                    if partial.isEmpty {
                        line(String(decoding: chunk[start..<index], as: UTF8.self))
                    } else {
                        partial.append(contentsOf: chunk[start..<index])
                        line(String(decoding: partial, as: UTF8.self))
                        partial.removeAll(keepingCapacity: true)
                    }
                    start = index + 1
                }
                partial.append(contentsOf: chunk[start..<count])
            }
        }
        if final && !partial.isEmpty {
            line(String(decoding: partial, as: UTF8.self))
            partial.removeAll()
        }
        return grew
    }
}
