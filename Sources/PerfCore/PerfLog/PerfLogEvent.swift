/// One `[PerfLog] {"event": …, "value": {…}, "metadata": {…}}` record from a workload's log.
///
/// The scanner checks the whole record when it reads the line but keeps ``value`` and
/// ``metadata`` as their checked JSON text, and builds the dictionaries each time they are read:
/// most events of a long run are only counted, and building Swift dictionaries costs more than
/// finding and checking the line (see ``PerfLogScanner``). Read them once per event where it
/// matters (`let value = event.value`); setting either stores the dictionaries themselves.
public struct PerfLogEvent: Sendable, Equatable, Codable {
    /// The `event` member, e.g. `STEP_END` or `FINISHED`.
    public var name: String
    /// The 1-based number of the line in the stream that carried the event.
    public var line: Int
    private var fields: Fields

    private enum Fields: Sendable {
        case decoded(value: [String: JSONValue], metadata: [String: JSONValue])
        case text(PerfLogEventText)
    }

    public init(name: String, value: [String: JSONValue] = [:], metadata: [String: JSONValue] = [:], line: Int) {
        self.name = name
        self.line = line
        self.fields = .decoded(value: value, metadata: metadata)
    }

    /// An event whose `value` and `metadata` are still JSON text.
    init(name: String, text: PerfLogEventText, line: Int) {
        self.name = name
        self.line = line
        self.fields = .text(text)
    }

    /// The `value` member's members (empty when the line has no `value` or it is `null`).
    public var value: [String: JSONValue] {
        get {
            switch fields {
            case .decoded(let value, _): return value
            case .text(let text): return text.value
            }
        }
        set { fields = .decoded(value: newValue, metadata: metadata) }
    }

    /// The `metadata` member's members (empty when the line has no `metadata` or it is `null`).
    public var metadata: [String: JSONValue] {
        get {
            switch fields {
            case .decoded(_, let metadata): return metadata
            case .text(let text): return text.metadata
            }
        }
        set { fields = .decoded(value: value, metadata: newValue) }
    }

    /// The emitting rank, from `metadata.rank` when it is an integer.
    public var rank: Int? { metadata["rank"]?.intValue }

    /// When the event was emitted, in milliseconds since the Unix epoch, from `metadata.time_ms`.
    public var timeMs: Double? { metadata["time_ms"]?.doubleValue }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.name == rhs.name && lhs.line == rhs.line && lhs.value == rhs.value && lhs.metadata == rhs.metadata
    }

    private enum CodingKeys: String, CodingKey {
        case name = "event"
        case value, metadata, line
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            value: try container.decode([String: JSONValue].self, forKey: .value),
            metadata: try container.decode([String: JSONValue].self, forKey: .metadata),
            line: try container.decode(Int.self, forKey: .line))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(value, forKey: .value)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(line, forKey: .line)
    }
}

/// The checked JSON text of an event's `value` and `metadata` objects.
struct PerfLogEventText: Sendable {
    /// The checked text (valid UTF-8), in a `String` for its compact, non-generic storage.
    private let text: String
    private let valueRange: Range<Int>?
    private let metadataRange: Range<Int>?

    /// `text` holds the objects at the given ranges; nil stands for an absent or `null` member.
    init(text: String, valueRange: Range<Int>?, metadataRange: Range<Int>?) {
        self.text = text
        self.valueRange = valueRange
        self.metadataRange = metadataRange
    }

    var value: [String: JSONValue] { decode(valueRange) }

    var metadata: [String: JSONValue] { decode(metadataRange) }

    private func decode(_ range: Range<Int>?) -> [String: JSONValue] {
        guard let range else { return [:] }
        var text = text
        return text.withUTF8 { bytes in
            var parser = JSONParser(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[range]))
            // The scanner checked this text; a failure here would be a parser bug, not bad input.
            return (try? parser.parseObject()) ?? [:]
        }
    }
}
