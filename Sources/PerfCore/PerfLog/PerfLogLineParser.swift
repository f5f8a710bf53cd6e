#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns the PerfLog part of one line (from its first `[PerfLog]` token to the end of the line,
/// without the line break) into events, or into one counted bad line.
enum PerfLogLineParser {
    /// How one `[PerfLog] {…}` segment went, and where to look for another token.
    private enum Outcome {
        /// An event, and the offset just past its JSON object.
        case event(PerfLogEvent, end: Int)
        /// No event; `resume` is where the segment's JSON started.
        case bad(BadLineReason, offset: Int, detail: String, resume: Int)

        var resume: Int {
            switch self {
            case .event(_, let end): return end
            case .bad(_, _, _, let resume): return resume
            }
        }
    }

    /// Parses `text` (starting with the token) of line `line`, whose token is at byte `column`,
    /// appending events to `events` and counting them, or the bad line, in `report`.
    ///
    /// A line with one token yields its event only if nothing but whitespace follows the JSON
    /// object. A line with several tokens is counted as ``BadLineReason/multipleTokens`` and
    /// yields the event of every segment whose JSON object is complete and valid.
    static func parse(
        _ text: UnsafeRawBufferPointer, line: Int, column: Int,
        events: inout [PerfLogEvent], report: inout PerfLogReport
    ) {
        let first = parseSegment(text, from: PerfLogToken.count, line: line)
        guard let secondToken = nextToken(in: text, from: first.resume) else {
            switch first {
            case .event(let event, let end):
                var rest = JSONParser(text, index: end)
                if rest.isAtEnd() {
                    events.append(event)
                    report.events += 1
                } else {
                    record(.invalidJSON, "unexpected text after the JSON object", at: end, text, line, column, &report)
                }
            case .bad(let reason, let offset, let detail, _):
                record(reason, detail, at: offset, text, line, column, &report)
            }
            return
        }
        var outcome = first
        var tokenStart: Int? = secondToken
        while true {
            if case .event(let event, _) = outcome {
                events.append(event)
                report.events += 1
            }
            guard let start = tokenStart else { break }
            outcome = parseSegment(text, from: start + PerfLogToken.count, line: line)
            tokenStart = nextToken(in: text, from: outcome.resume)
        }
        report.recordBadLine(
            .multipleTokens, line: line, column: column + secondToken,
            detail: "more than one \(PerfLogToken.text) token on the line; complete events on it were kept",
            excerpt: { BadLine.excerpt(of: text) })
    }

    /// Counts a line whose only segment gave no event, naming a NUL byte or bytes that are not
    /// UTF-8 when either is what broke the JSON.
    private static func record(
        _ reason: BadLineReason, _ detail: String, at offset: Int, _ text: UnsafeRawBufferPointer,
        _ line: Int, _ column: Int, _ report: inout PerfLogReport
    ) {
        var reason = reason
        var detail = detail
        if reason == .invalidJSON || reason == .truncatedJSON {
            if text.contains(0) {
                reason = .nulByte
                detail = "NUL byte in the PerfLog part of the line (\(detail))"
            } else if reason == .invalidJSON, String(validating: text, as: UTF8.self) == nil {
                reason = .invalidUTF8
                detail = "the PerfLog part of the line is not valid UTF-8 (\(detail))"
            }
        }
        report.recordBadLine(
            reason, line: line, column: column + offset, detail: detail, excerpt: { BadLine.excerpt(of: text) })
    }

    /// Parses the JSON object of one segment, which starts at `start`: one pass checks it all
    /// and finds its `event`, `value` and `metadata` members; `value` and `metadata` stay text
    /// until the event's caller reads them.
    private static func parseSegment(_ text: UnsafeRawBufferPointer, from start: Int, line: Int) -> Outcome {
        var parser = JSONParser(text, index: start)
        do {
            guard let first = parser.peek() else {
                return .bad(
                    .truncatedJSON, offset: parser.index, detail: "no JSON after \(PerfLogToken.text)", resume: start)
            }
            let objectStart = parser.index
            guard first == UInt8(ascii: "{") else {
                let value = try parser.parseValue()
                return .bad(
                    .notAnObject, offset: objectStart, detail: "the JSON is \(kind(of: value)), not an object",
                    resume: start)
            }
            var name: Range<Int>?
            var value: Range<Int>?
            var metadata: Range<Int>?
            let end = try JSONValidator.endOfValue(in: text, from: objectStart) { key, member in
                switch Member(key: key, in: text) {
                case .event?: name = member
                case .value?: value = member
                case .metadata?: metadata = member
                case nil: break
                }
            }
            guard let name, text[name.lowerBound] == UInt8(ascii: "\"") else {
                let detail =
                    name.map { "\"event\" is \(kind(of: text[$0.lowerBound])), not a string" } ?? "no \"event\" member"
                return .bad(.missingEvent, offset: objectStart, detail: detail, resume: start)
            }
            if let problem = notAnObject(.value, value, text) ?? notAnObject(.metadata, metadata, text) {
                return .bad(.wrongFieldType, offset: objectStart, detail: problem, resume: start)
            }
            var nameParser = JSONParser(text, index: name.lowerBound)
            let eventName = try nameParser.parseString()
            let event = makeEvent(
                eventName, value: objectRange(value, text), metadata: objectRange(metadata, text), text, line: line)
            return .event(event, end: end)
        } catch {
            let reason: BadLineReason
            switch error.kind {
            case .truncated: reason = .truncatedJSON
            case .invalidUTF8: reason = .invalidUTF8
            case .invalid: reason = .invalidJSON
            }
            return .bad(reason, offset: error.offset, detail: error.message, resume: start)
        }
    }

    /// The members of a PerfLog object that are read.
    private enum Member: String {
        case event, value, metadata

        /// The member whose key is at `key` in `text`, if it is one of these.
        init?(key: Range<Int>, in text: UnsafeRawBufferPointer) {
            let bytes = UnsafeRawBufferPointer(rebasing: text[key])
            guard bytes.contains(UInt8(ascii: "\\")) else {
                if Self.equal(bytes, "event") {
                    self = .event
                } else if Self.equal(bytes, "value") {
                    self = .value
                } else if Self.equal(bytes, "metadata") {
                    self = .metadata
                } else {
                    return nil
                }
                return
            }
            // A key written with escapes, like "\u0065vent": decode it.
            var parser = JSONParser(text, index: key.lowerBound - 1)
            guard case .string(let decoded)? = try? parser.parseValue() else { return nil }
            self.init(rawValue: decoded)
        }

        private static func equal(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
            guard bytes.count == name.utf8CodeUnitCount, let start = bytes.baseAddress else { return false }
            return memcmp(start, name.utf8Start, bytes.count) == 0
        }
    }

    /// Why a `value` or `metadata` member is neither an object nor `null`, if it is not.
    private static func notAnObject(_ member: Member, _ range: Range<Int>?, _ text: UnsafeRawBufferPointer) -> String? {
        guard let range else { return nil }
        let first = text[range.lowerBound]
        guard first != UInt8(ascii: "{"), first != UInt8(ascii: "n") else { return nil }
        return "\"\(member.rawValue)\" is \(kind(of: first)), not an object"
    }

    /// A `value` or `metadata` member's range when it holds an object; nil when absent or `null`.
    private static func objectRange(_ range: Range<Int>?, _ text: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let range, text[range.lowerBound] == UInt8(ascii: "{") else { return nil }
        return range
    }

    /// An event whose `value` and `metadata` objects are copied, as text, from `text`.
    private static func makeEvent(
        _ name: String, value: Range<Int>?, metadata: Range<Int>?, _ text: UnsafeRawBufferPointer, line: Int
    ) -> PerfLogEvent {
        guard value != nil || metadata != nil else { return PerfLogEvent(name: name, line: line) }
        // One copy holds both objects: the value's text, then the metadata's.
        let valueText = value.map { UnsafeRawBufferPointer(rebasing: text[$0]) }
        let metadataText = metadata.map { UnsafeRawBufferPointer(rebasing: text[$0]) }
        let valueCount = valueText?.count ?? 0
        let count = valueCount + (metadataText?.count ?? 0)
        let copy = String(unsafeUninitializedCapacity: count) { buffer in
            let target = UnsafeMutableRawBufferPointer(buffer)
            if let valueText { target.copyMemory(from: valueText) }
            if let metadataText {
                UnsafeMutableRawBufferPointer(rebasing: target[valueCount...]).copyMemory(from: metadataText)
            }
            return count
        }
        let fields = PerfLogEventText(
            text: copy, valueRange: value.map { _ in 0..<valueCount },
            metadataRange: metadata.map { _ in valueCount..<count })
        return PerfLogEvent(name: name, text: fields, line: line)
    }

    /// The kind of the JSON value that starts with `first`, for messages.
    private static func kind(of first: UInt8) -> String {
        switch first {
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a Boolean"
        case UInt8(ascii: "n"): return "null"
        default: return "a number"
        }
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a Boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    private static func nextToken(in text: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = text.baseAddress else { return nil }
        return ByteScan.firstToken(in: base, from: start, to: text.count)
    }
}
