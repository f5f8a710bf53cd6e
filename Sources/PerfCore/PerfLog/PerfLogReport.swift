/// Why a PerfLog line yielded no event (or, for ``multipleTokens``, why it was counted).
public enum BadLineReason: String, Sendable, Hashable, Codable, CodingKeyRepresentable, CaseIterable {
    /// The text after the token is not JSON.
    case invalidJSON = "invalid_json"
    /// The JSON stops before its end (a rank killed mid-write, a cut log).
    case truncatedJSON = "truncated_json"
    /// The PerfLog part of the line is not valid UTF-8.
    case invalidUTF8 = "invalid_utf8"
    /// The PerfLog part of the line holds a NUL byte.
    case nulByte = "nul_byte"
    /// The PerfLog part of the line is longer than the scanner's limit (1 MiB by default).
    case oversizedLine = "oversized_line"
    /// The line holds the token more than once; each complete event on it is still kept.
    case multipleTokens = "multiple_tokens"
    /// The JSON is valid but is not an object.
    case notAnObject = "not_an_object"
    /// The object has no `event` member, or it is not a string.
    case missingEvent = "missing_event"
    /// `value` or `metadata` is neither an object nor `null`.
    case wrongFieldType = "wrong_field_type"
}

/// One bad line, kept as an example for the user.
public struct BadLine: Sendable, Equatable, Codable {
    /// 1-based line number in the stream.
    public var line: Int
    /// 1-based byte column where the problem was found.
    public var column: Int
    public var reason: BadLineReason
    /// What exactly is wrong, e.g. "expected ',' or '}' after an object member".
    public var detail: String
    /// The start of the line's PerfLog part, from the token on, with bytes outside printable
    /// ASCII written as `\xNN`.
    public var excerpt: String

    public init(line: Int, column: Int, reason: BadLineReason, detail: String, excerpt: String) {
        self.line = line
        self.column = column
        self.reason = reason
        self.detail = detail
        self.excerpt = excerpt
    }

    /// How many bytes of a line an excerpt shows.
    static let excerptLimit = 80

    /// The first ``excerptLimit`` bytes of `text`: printable ASCII as is, a backslash doubled,
    /// anything else as `\xNN`, and `…` when cut.
    static func excerpt(of text: UnsafeRawBufferPointer) -> String {
        var excerpt = ""
        for byte in text.prefix(excerptLimit) {
            switch byte {
            case UInt8(ascii: "\\"): excerpt += "\\\\"
            case 0x20..<0x7F: excerpt.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                excerpt += "\\x" + (byte < 0x10 ? "0" + hex : hex)
            }
        }
        return text.count > excerptLimit ? excerpt + "…" : excerpt
    }
}

/// What a scan saw: how much it read, how many events it found, and which lines it could not use.
public struct PerfLogReport: Sendable, Equatable, Codable {
    /// How many bad lines are kept in ``samples``.
    public static let sampleLimit = 20

    /// Lines read, including a last line without a newline.
    public var linesScanned: Int
    /// Bytes read.
    public var bytesScanned: Int
    /// Events delivered.
    public var events: Int
    /// Bad lines by reason; a line counts once.
    public var badLines: [BadLineReason: Int]
    /// The first ``sampleLimit`` bad lines.
    public var samples: [BadLine]

    public init(
        linesScanned: Int = 0, bytesScanned: Int = 0, events: Int = 0,
        badLines: [BadLineReason: Int] = [:], samples: [BadLine] = []
    ) {
        self.linesScanned = linesScanned
        self.bytesScanned = bytesScanned
        self.events = events
        self.badLines = badLines
        self.samples = samples
    }

    /// Bad lines of all reasons.
    public var badLineCount: Int { badLines.values.reduce(0, +) }

    /// Counts a bad line, and keeps it as a sample while fewer than ``sampleLimit`` are kept.
    /// `excerpt` is only called for a kept sample.
    mutating func recordBadLine(
        _ reason: BadLineReason, line: Int, column: Int, detail: String, excerpt: () -> String
    ) {
        badLines[reason, default: 0] += 1
        if samples.count < Self.sampleLimit {
            samples.append(BadLine(line: line, column: column, reason: reason, detail: detail, excerpt: excerpt()))
        }
    }
}
