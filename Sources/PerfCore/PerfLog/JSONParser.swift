/// Why JSON text was rejected, and where.
struct JSONSyntaxError: Error, Equatable {
    enum Kind: Equatable {
        /// The input ended inside a value.
        case truncated
        /// A string holds bytes that are not UTF-8.
        case invalidUTF8
        /// Anything else RFC 8259 does not allow.
        case invalid
    }

    var kind: Kind
    /// Byte offset in the parsed buffer where the problem was found.
    var offset: Int
    var message: String
}

/// A strict RFC 8259 JSON parser over raw bytes, for PerfLog records.
///
/// Why not Foundation, against the project's "no hand-rolled JSON" rule: measured on the 2-core
/// test VM (release build, the benchmark's PerfLog-dense log: ~280-byte lines with Python-style
/// full-precision floats), `JSONSerialization.jsonObject` alone ran at ~9–20 MB/s, ~3–5 MB/s once
/// its `Any` tree was turned into ``JSONValue``, and `JSONDecoder` into ``JSONValue`` at
/// ~2.4–6 MB/s, while Python's `str.find` + `json.loads` loop ran at ~20–60 MB/s on the same file
/// in the same minutes. The target is 5× that loop, so Foundation is 10–50× too slow. Building
/// Swift dictionaries is itself the bottleneck (a 5-key `[String: JSONValue]` costs ~0.4 µs here,
/// a tenth of Python's whole `json.loads` of a line), so the scanner checks each record with
/// ``JSONValidator`` in one pass and this parser builds `value` and `metadata` only when an event's
/// caller reads them: ~290–350 MB/s for the scan, ~100–110 MB/s when every event's fields are
/// built too (`perf-bench perflog` measures the scan side by side with Python).
///
/// Both are checked against `JSONSerialization` by differential tests (fixed and random documents,
/// randomly damaged ones), and numbers exactly against the standard library's `Double(String)`.
/// Foundation differs where it is lax or inexact: it accepts trailing commas, misrounds some
/// 17-digit numbers, and rejects out-of-range numbers, which this parser reads as ±infinity like
/// Python's `json`.
///
/// Strictness: no comments, no trailing commas, no leading zeros or `+`, no NaN/Infinity, no
/// control characters in strings, valid UTF-8 only; nesting is capped at ``maxDepth``. A lone
/// UTF-16 surrogate in a `\u` escape (which RFC 8259 §8.2 lets through) becomes U+FFFD, since a
/// Swift `String` cannot hold it. Duplicate object keys keep the last value.
struct JSONParser {
    /// Deepest nesting of arrays and objects accepted, as in common parsers; bounds the stack.
    static let maxDepth = 512

    private let bytes: UnsafeRawBufferPointer
    /// Offset of the next byte to read.
    private(set) var index: Int
    private var depth = 0
    /// Unescaped bytes of the string being read, reused between strings.
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeRawBufferPointer, index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    // MARK: Values

    /// Whether only whitespace is left.
    mutating func isAtEnd() -> Bool {
        skipWhitespace()
        return index == bytes.count
    }

    /// The next non-whitespace byte, without consuming it.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// Reads any JSON value.
    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        switch try nextValueStart() {
        case UInt8(ascii: "{"): return .object(try parseObject())
        case UInt8(ascii: "["): return .array(try parseArray())
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return .null
        default:
            let digits = try scanNumber()
            let text = UnsafeRawBufferPointer(rebasing: bytes[digits.start..<index])
            return .number(digits.exactDouble() ?? DecimalDigits.slowDouble(text))
        }
    }

    /// Skips whitespace and returns the first byte of the value there: `{`, `[`, `"`, `t`, `f`,
    /// `n`, or `-`/a digit for a number.
    @inline(__always)
    private mutating func nextValueStart() throws(JSONSyntaxError) -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw truncated("expected a value") }
        let byte = bytes[index]
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "t"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return byte
        default:
            throw invalid("expected a value")
        }
    }

    // MARK: Objects and arrays

    /// Reads an object's members.
    mutating func parseObject() throws(JSONSyntaxError) -> [String: JSONValue] {
        guard try beginObject() else { return [:] }
        // Room for the few members PerfLog objects have, so that they rarely rehash.
        var object = [String: JSONValue](minimumCapacity: 8)
        repeat {
            let key = try parseKey()
            object[key] = try parseValue()
        } while try nextMember()
        endNesting()
        return object
    }

    /// Consumes `{`; false when the object is empty (its `}` consumed too).
    private mutating func beginObject() throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw truncated("expected '{'") }
        guard bytes[index] == UInt8(ascii: "{") else { throw invalid("expected '{'") }
        return try beginNesting(closedBy: UInt8(ascii: "}"))
    }

    /// Reads a member's key and the `:` after it.
    private mutating func parseKey() throws(JSONSyntaxError) -> String {
        skipWhitespace()
        guard index < bytes.count else { throw truncated("expected a string key") }
        guard bytes[index] == UInt8(ascii: "\"") else { throw invalid("expected a string key") }
        let key = try parseString()
        try expectColon()
        return key
    }

    /// After a member's value: consumes `,` (true: another member follows) or `}` (false).
    /// The caller calls ``endNesting()`` once this returns false.
    private mutating func nextMember() throws(JSONSyntaxError) -> Bool {
        try nextItem(closedBy: UInt8(ascii: "}"), "expected ',' or '}' after an object member")
    }

    /// Closes the object or array opened last.
    private mutating func endNesting() { depth -= 1 }

    @inline(__always)
    private mutating func expectColon() throws(JSONSyntaxError) {
        skipWhitespace()
        guard index < bytes.count else { throw truncated("expected ':' after an object key") }
        guard bytes[index] == UInt8(ascii: ":") else { throw invalid("expected ':' after an object key") }
        index += 1
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> [JSONValue] {
        var array: [JSONValue] = []
        guard try beginArray() else { return array }
        repeat {
            array.append(try parseValue())
        } while try nextElement()
        endNesting()
        return array
    }

    /// Consumes `[` (at `index`); false when the array is empty (its `]` consumed too).
    private mutating func beginArray() throws(JSONSyntaxError) -> Bool {
        try beginNesting(closedBy: UInt8(ascii: "]"))
    }

    private mutating func nextElement() throws(JSONSyntaxError) -> Bool {
        try nextItem(closedBy: UInt8(ascii: "]"), "expected ',' or ']' after an array element")
    }

    /// Consumes the opening bracket at `index`; false when the closing one follows at once.
    @inline(__always)
    private mutating func beginNesting(closedBy close: UInt8) throws(JSONSyntaxError) -> Bool {
        guard depth < Self.maxDepth else { throw invalid("nested deeper than \(Self.maxDepth) levels") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == close {
            index += 1
            return false
        }
        depth += 1
        return true
    }

    @inline(__always)
    private mutating func nextItem(closedBy close: UInt8, _ message: String) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw truncated(message) }
        switch bytes[index] {
        case UInt8(ascii: ","):
            index += 1
            return true
        case close:
            index += 1
            return false
        default:
            throw invalid(message)
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let text = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for expected in text {
            guard index < bytes.count else { throw truncated("expected '\(literal)'") }
            guard bytes[index] == expected else { throw invalid("expected '\(literal)'") }
            index += 1
        }
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    // MARK: Strings

    /// Where a checked string's contents lie, and what they hold.
    private struct StringExtent {
        var contents: Range<Int>
        var hasEscapes: Bool
        var ascii: Bool
    }

    /// Reads a string (`index` at its opening quote).
    mutating func parseString() throws(JSONSyntaxError) -> String {
        let extent = try scanString()
        let contents = UnsafeRawBufferPointer(rebasing: bytes[extent.contents])
        let string: String?
        if extent.hasEscapes {
            unescape(contents)
            string = scratch.withUnsafeBytes { String(validating: $0, as: UTF8.self) }
        } else if extent.ascii {
            string = String(decoding: contents, as: UTF8.self)
        } else {
            string = String(validating: contents, as: UTF8.self)
        }
        guard let string else { throw notUTF8(at: extent.contents.lowerBound) }
        return string
    }

    /// Moves past a string (`index` at its opening quote), checking its escapes and that it has
    /// no control characters; the caller checks UTF-8 when it is not ASCII.
    @inline(__always)
    private mutating func scanString() throws(JSONSyntaxError) -> StringExtent {
        let start = index + 1
        let end = bytes.count
        var position = start
        var hasEscapes = false
        // The OR of the string's bytes so far: its high bits tell whether all are ASCII.
        var highBits: UInt64 = 0
        while position < end {
            // Plain runs go 8 bytes at a time.
            if position + 8 <= end, let base = bytes.baseAddress {
                let chunk = EightBytes.load(base, position)
                let stops = EightBytes.stringStops(chunk)
                if stops == 0 {
                    highBits |= chunk
                    position += 8
                    continue
                }
                let count = stops.trailingZeroBitCount / 8
                highBits |= chunk & ((1 << (count * 8)) &- 1)
                position += count
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                index = position + 1
                let ascii = highBits & EightBytes.highBits == 0
                return StringExtent(contents: start..<position, hasEscapes: hasEscapes, ascii: ascii)
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index = position
                try checkEscape()
                position = index
                continue
            }
            if byte < 0x20 {
                index = position
                throw invalid("control character in a string (escape it)")
            }
            highBits |= UInt64(byte)
            position += 1
        }
        index = position
        throw truncated("unterminated string")
    }

    /// Moves past the escape at `index` (a backslash), checking it.
    private mutating func checkEscape() throws(JSONSyntaxError) {
        index += 1
        guard index < bytes.count else { throw truncated("unterminated escape") }
        switch bytes[index] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            for _ in 0..<4 {
                index += 1
                guard index < bytes.count else { throw truncated("expected four hex digits after \\u") }
                guard Self.hexValue(bytes[index]) != nil else { throw invalid("expected four hex digits after \\u") }
            }
            index += 1
        default:
            throw invalid("unknown escape '\\\(Unicode.Scalar(bytes[index]))'")
        }
    }

    /// Writes the unescaped bytes of checked string contents to `scratch`.
    private mutating func unescape(_ contents: UnsafeRawBufferPointer) {
        scratch.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < contents.count {
            let byte = contents[offset]
            offset += 1
            guard byte == UInt8(ascii: "\\") else {
                scratch.append(byte)
                continue
            }
            let escaped = contents[offset]
            offset += 1
            switch escaped {
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                let unit = Self.hex4(contents, at: offset)
                offset += 4
                var scalar = Unicode.Scalar(unit) ?? "\u{FFFD}"
                // A high surrogate joins a low one in the next escape; a lone surrogate is U+FFFD.
                if (0xD800...0xDBFF).contains(unit), offset + 6 <= contents.count,
                    contents[offset] == UInt8(ascii: "\\"), contents[offset + 1] == UInt8(ascii: "u")
                {
                    let low = Self.hex4(contents, at: offset + 2)
                    if (0xDC00...0xDFFF).contains(low),
                        let joined = Unicode.Scalar(0x10000 + (UInt32(unit) - 0xD800) << 10 + (UInt32(low) - 0xDC00))
                    {
                        scalar = joined
                        offset += 6
                    }
                }
                scratch.append(contentsOf: UTF8.encode(scalar) ?? UTF8.EncodedScalar())
            default: scratch.append(escaped)
            }
        }
    }

    /// The value of four hex digits already checked by ``checkEscape()``.
    private static func hex4(_ contents: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        (offset..<offset + 4).reduce(0) { value, position in value << 4 | UInt16(hexValue(contents[position]) ?? 0) }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: Numbers

    /// Moves past a number (`index` at its first byte), checking RFC 8259's grammar, and
    /// returns its digits.
    private mutating func scanNumber() throws(JSONSyntaxError) -> DecimalDigits {
        var digits = DecimalDigits(start: index)
        let end = bytes.count
        var position = index
        defer { index = position }
        if bytes[position] == UInt8(ascii: "-") {
            digits.negative = true
            position += 1
        }
        guard position < end else { throw truncated("expected a digit", at: position) }
        switch bytes[position] {
        case UInt8(ascii: "0"):
            position += 1
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            while position < end, let digit = Self.digitValue(bytes[position]) {
                digits.appendIntegerDigit(digit)
                position += 1
            }
        default:
            throw invalid("expected a digit", at: position)
        }
        if position < end, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < end else { throw truncated("expected a digit after '.'", at: position) }
            guard Self.digitValue(bytes[position]) != nil else {
                throw invalid("expected a digit after '.'", at: position)
            }
            while position < end, let digit = Self.digitValue(bytes[position]) {
                digits.appendFractionDigit(digit)
                position += 1
            }
        }
        if position < end, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            var negative = false
            if position < end, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
                negative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < end else { throw truncated("expected a digit in the exponent", at: position) }
            guard Self.digitValue(bytes[position]) != nil else {
                throw invalid("expected a digit in the exponent", at: position)
            }
            var exponent = 0
            while position < end, let digit = Self.digitValue(bytes[position]) {
                // Beyond 10^±1000000 every double is 0 or infinite; stop growing there.
                exponent = min(exponent * 10 + Int(digit), 1_000_000)
                position += 1
            }
            digits.exponent += negative ? -exponent : exponent
        }
        return digits
    }

    @inline(__always)
    private static func digitValue(_ byte: UInt8) -> UInt8? {
        let digit = byte &- UInt8(ascii: "0")
        return digit < 10 ? digit : nil
    }

    // MARK: Errors

    private func truncated(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(kind: .truncated, offset: offset ?? index, message: message)
    }

    private func notUTF8(at offset: Int) -> JSONSyntaxError {
        JSONSyntaxError(kind: .invalidUTF8, offset: offset, message: "string is not valid UTF-8")
    }

    private func invalid(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(kind: .invalid, offset: offset ?? index, message: message)
    }
}
