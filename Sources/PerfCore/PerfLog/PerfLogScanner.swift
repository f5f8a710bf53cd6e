/// Finds PerfLog events in a byte stream that arrives in chunks of any size.
///
/// A PerfLog line holds `[PerfLog] {json}` anywhere (launchers prefix lines with timestamps or
/// ranks). Feed the stream with ``consume(_:)-(UnsafeRawBufferPointer)``, take the events found
/// so far with ``takeEvents()`` whenever convenient, and call ``finish()`` at the end of the
/// stream for a last line without a line break. Bad PerfLog lines never stop the scan: each is
/// counted with its reason in ``report``.
///
/// How it stays fast: the token is searched over the whole chunk with a vectorised filter and
/// newlines are counted the same way; only the lines that hold the token are looked at one by
/// one, and a line that lies within one chunk is parsed in place, never copied. Other lines are
/// never inspected beyond the token search (their encoding, NUL bytes or length do not matter).
///
/// Memory stays bounded: the scanner keeps at most the PerfLog part of the current line (from its
/// token on), up to ``maxLineBytes``; a longer line is counted as
/// ``BadLineReason/oversizedLine`` and the rest of it skipped without buffering.
public struct PerfLogScanner: Sendable {
    /// The default longest PerfLog part of a line (from the token to the line break): 1 MiB.
    public static let defaultMaxLineBytes = 1 << 20

    /// The longest PerfLog part of a line that is parsed.
    public let maxLineBytes: Int
    /// What the scan has seen so far.
    public private(set) var report = PerfLogReport()

    private enum LineState {
        /// No token on the current line so far.
        case plain
        /// The current line has a token; its PerfLog part is being gathered in `pending`.
        case collecting
        /// The current line's PerfLog part is over the limit; its rest is being skipped.
        case skipping
    }

    private var state = LineState.plain
    private var events: [PerfLogEvent] = []
    private var completedLines = 0
    /// Stream offset of the current chunk's first byte.
    private var streamOffset = 0
    /// Stream offset of the current line's first byte.
    private var lineStart = 0
    /// Stream offset of the current line's token, while collecting or skipping.
    private var tokenOffset = 0
    /// The PerfLog part of the current line gathered from earlier chunks.
    private var pending: [UInt8] = []
    /// The last bytes of earlier chunks while on a plain line, to find a token split between chunks.
    private var tail: [UInt8] = []
    /// The excerpt of the line being skipped, when it will be kept as a sample.
    private var oversizedExcerpt = ""

    /// A scanner that parses PerfLog parts of lines up to `maxLineBytes` long.
    public init(maxLineBytes: Int = defaultMaxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes held for the line in progress; never more than ``maxLineBytes`` plus a few.
    public var bufferedByteCount: Int { pending.count + tail.count }

    /// The events found since the last call, in stream order.
    public mutating func takeEvents() -> [PerfLogEvent] {
        var taken: [PerfLogEvent] = []
        swap(&taken, &events)
        // The next chunk likely brings as many: room for them up front spares regrowing.
        events.reserveCapacity(taken.count)
        return taken
    }

    /// Scans the next bytes of the stream.
    public mutating func consume(_ chunk: UnsafeRawBufferPointer) {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
        let end = chunk.count
        var position = 0
        if state == .plain, !tail.isEmpty {
            position = joinSplitToken(base, end)
        }
        while position < end {
            switch state {
            case .plain: position = scanPlainLines(base, from: position, to: end)
            case .collecting, .skipping: position = continueTokenLine(base, from: position, to: end)
            }
        }
        if state == .plain {
            keepTail(base, end)
        } else {
            tail.removeAll(keepingCapacity: true)
        }
        streamOffset += end
        report.bytesScanned += end
        report.linesScanned = completedLines
    }

    /// Scans the next bytes of the stream, e.g. an `[UInt8]`, `ArraySlice<UInt8>` or a
    /// `String`'s `utf8` view.
    public mutating func consume(_ bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { consume(UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(bytes).withUnsafeBytes { consume($0) }
        }
    }

    /// Ends the stream: a last line without a line break is scanned as a whole line.
    public mutating func finish() {
        if state != .plain || streamOffset > lineStart {
            completeTokenLine()
            endLine(nextLineStart: streamOffset)
        }
        tail.removeAll()
        report.linesScanned = completedLines
    }

    // MARK: Lines

    /// Scans lines without a token so far from `start`, up to and including the next line that
    /// has one, if that line ends in the chunk.
    private mutating func scanPlainLines(_ base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        guard let token = ByteScan.firstToken(in: base, from: start, to: end) else {
            countLines(base, from: start, to: end)
            return end
        }
        countLines(base, from: start, to: token)
        tokenOffset = streamOffset + token
        guard let newline = ByteScan.firstNewline(in: base, from: token + PerfLogToken.count, to: end) else {
            state = .collecting
            return continueTokenLine(base, from: token, to: end)
        }
        parseLine(UnsafeRawBufferPointer(start: base + token, count: newline - token))
        endLine(nextLineStart: streamOffset + newline + 1)
        return newline + 1
    }

    /// Gathers (or skips) the PerfLog part of a line that started earlier, up to its end.
    private mutating func continueTokenLine(_ base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        let newline = ByteScan.firstNewline(in: base, from: start, to: end)
        let stop = newline ?? end
        if state == .collecting {
            if pending.count + (stop - start) > maxLineBytes {
                keepOversizedExcerpt(UnsafeRawBufferPointer(start: base + start, count: stop - start))
                pending = []
                state = .skipping
            } else {
                pending.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: stop - start))
            }
        }
        guard let newline else { return end }
        completeTokenLine()
        endLine(nextLineStart: streamOffset + newline + 1)
        return newline + 1
    }

    /// Parses or counts the gathered PerfLog part of the current line.
    private mutating func completeTokenLine() {
        switch state {
        case .plain:
            break
        case .collecting:
            var text: [UInt8] = []
            swap(&text, &pending)
            text.withUnsafeBytes { parseLine($0) }
            text.removeAll(keepingCapacity: true)
            swap(&text, &pending)
        case .skipping:
            recordOversizedLine()
        }
    }

    /// Parses the PerfLog part of the current line (from its token to its line break).
    private mutating func parseLine(_ text: UnsafeRawBufferPointer) {
        guard text.count <= maxLineBytes else { return recordOversizedLine(text) }
        var text = text
        if text.last == UInt8(ascii: "\r") {
            text = UnsafeRawBufferPointer(rebasing: text.dropLast())
        }
        PerfLogLineParser.parse(
            text, line: completedLines + 1, column: tokenOffset - lineStart + 1, events: &events, report: &report)
    }

    private mutating func recordOversizedLine(_ text: UnsafeRawBufferPointer? = nil) {
        report.recordBadLine(
            .oversizedLine, line: completedLines + 1, column: tokenOffset - lineStart + 1,
            detail: "the PerfLog part of the line is longer than \(maxLineBytes) bytes; the line was skipped",
            excerpt: { text.map(BadLine.excerpt(of:)) ?? oversizedExcerpt })
        oversizedExcerpt = ""
    }

    /// Keeps the excerpt of a line about to be skipped, from its gathered start and `next` bytes.
    private mutating func keepOversizedExcerpt(_ next: UnsafeRawBufferPointer) {
        guard report.samples.count < PerfLogReport.sampleLimit else { return }
        let start = pending.prefix(BadLine.excerptLimit + 1) + next.prefix(BadLine.excerptLimit + 1)
        oversizedExcerpt = start.withUnsafeBytes { BadLine.excerpt(of: $0) }
    }

    private mutating func endLine(nextLineStart: Int) {
        completedLines += 1
        lineStart = nextLineStart
        state = .plain
    }

    /// Counts the lines that end in `start..<end`, none of which holds a token.
    private mutating func countLines(_ base: UnsafeRawPointer, from start: Int, to end: Int) {
        let count = ByteScan.newlineCount(in: base, from: start, to: end)
        guard count > 0 else { return }
        completedLines += count
        if let last = ByteScan.lastNewline(in: base, from: start, to: end) {
            lineStart = streamOffset + last + 1
        }
    }

    // MARK: Tokens split between chunks

    /// Looks for a token that starts in earlier chunks and ends in this one; if there is one,
    /// starts collecting its line and returns how many bytes of this chunk it took.
    private mutating func joinSplitToken(_ base: UnsafeRawPointer, _ end: Int) -> Int {
        var window = tail
        window.append(contentsOf: UnsafeRawBufferPointer(start: base, count: min(PerfLogToken.count - 1, end)))
        let found = window.withUnsafeBytes { bytes -> Int? in
            guard let start = bytes.baseAddress else { return nil }
            return ByteScan.firstToken(in: start, from: 0, to: bytes.count)
        }
        guard let found, found < tail.count else { return 0 }
        let bytesBefore = tail.count - found
        tokenOffset = streamOffset - bytesBefore
        pending.append(contentsOf: PerfLogToken.text.utf8)
        state = .collecting
        tail.removeAll(keepingCapacity: true)
        return PerfLogToken.count - bytesBefore
    }

    /// Keeps the last bytes of the stream, enough to hold all but one byte of a token.
    private mutating func keepTail(_ base: UnsafeRawPointer, _ end: Int) {
        let keep = PerfLogToken.count - 1
        if end >= keep {
            tail.removeAll(keepingCapacity: true)
        }
        tail.append(contentsOf: UnsafeRawBufferPointer(start: base + max(0, end - keep), count: min(keep, end)))
        if tail.count > keep {
            tail.removeFirst(tail.count - keep)
        }
    }
}
