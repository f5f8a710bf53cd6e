import SystemPackage

/// The events of a whole log and what the scan saw.
public struct PerfLogScanResult: Sendable, Equatable, Codable {
    /// The events, in log order.
    public var events: [PerfLogEvent]
    public var report: PerfLogReport

    public init(events: [PerfLogEvent], report: PerfLogReport) {
        self.events = events
        self.report = report
    }
}

/// A log file that could not be read.
public struct PerfLogFileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    /// The system's reason, e.g. "No such file or directory".
    public var reason: String

    public var description: String { "cannot read PerfLog file \(path): \(reason)" }
}

extension PerfLogScanner {
    /// The size of the chunks the file scans read.
    public static let defaultChunkSize = 1 << 20

    /// Scans a whole log file, reading it in chunks of `chunkSize` bytes, and keeps its events.
    public static func scan(file path: String, chunkSize: Int = defaultChunkSize) throws(PerfLogFileError)
        -> PerfLogScanResult
    {
        var events: [PerfLogEvent] = []
        let report = try scan(file: path, chunkSize: chunkSize) { events.append(contentsOf: $0) }
        return PerfLogScanResult(events: events, report: report)
    }

    /// Scans a whole log file, reading it in chunks of `chunkSize` bytes, and hands the events
    /// found in each chunk to `body` as they come, so a caller that aggregates need not keep them.
    public static func scan(
        file path: String, chunkSize: Int = defaultChunkSize, events body: ([PerfLogEvent]) -> Void
    ) throws(PerfLogFileError) -> PerfLogReport {
        do {
            let descriptor = try FileDescriptor.open(FilePath(path), .readOnly)
            return try descriptor.closeAfter {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(chunkSize, 1), alignment: 64)
                defer { buffer.deallocate() }
                var scanner = PerfLogScanner()
                while true {
                    let count = try descriptor.read(into: buffer)
                    if count == 0 { break }
                    scanner.consume(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    body(scanner.takeEvents())
                }
                scanner.finish()
                body(scanner.takeEvents())
                return scanner.report
            }
        } catch let error as Errno {
            throw PerfLogFileError(path: path, reason: error.description)
        } catch {
            throw PerfLogFileError(path: path, reason: "\(error)")
        }
    }
}
