/// Checks one JSON value as strictly as ``JSONParser`` reads it, without building anything.
///
/// The scanner checks every PerfLog record with this, finding its `event`, `value` and
/// `metadata` members on the way, and builds `value` and `metadata` only when a caller reads
/// them. It is one loop over the bytes with its state in local variables, strings and digit runs
/// taken 8 bytes at a time; the recursive descent over `inout` state of ``JSONParser`` spent about
/// 1.6× the cycles per line. It agrees with ``JSONParser`` on what is valid and where a value
/// ends (the differential tests check both on the same inputs).
enum JSONValidator {
    private enum Expect {
        /// A value.
        case value
        /// A member's key (after `{` or `,`).
        case key
        /// What follows a value: `,` or the closing bracket, or the end at depth 0.
        case next
    }

    /// The offset just past the value that starts (after whitespace) at `start`; when it is an
    /// object, `member` is told the range of each member's key (inside its quotes, escapes
    /// as written) and of its value, in order.
    static func endOfValue(
        in bytes: UnsafeRawBufferPointer, from start: Int, member: (_ key: Range<Int>, _ value: Range<Int>) -> Void
    ) throws(JSONSyntaxError) -> Int {
        let end = bytes.count
        // The top-level object's member being read: its key, and where its value starts.
        var memberKey: Range<Int>?
        var memberValueStart = start
        var position = start
        guard let base = bytes.baseAddress, start < end else {
            throw JSONSyntaxError(kind: .truncated, offset: start, message: "expected a value")
        }
        /// The 8 bytes at `position` (the caller checks 8 are left).
        func word() -> UInt64 { EightBytes.load(base, position) }
        var expect = Expect.value
        // Open containers, innermost last: a set bit (or true) for an object, clear for an array.
        // The first 64 levels live in a word, deeper ones in an array that is rarely needed.
        var depth = 0
        var shallow: UInt64 = 0
        var deep: [Bool] = []

        func push(_ isObject: Bool) {
            if depth < 64 {
                shallow = isObject ? shallow | 1 << depth : shallow & ~(1 << depth)
            } else {
                deep.append(isObject)
            }
            depth += 1
        }
        func pop() {
            depth -= 1
            if depth >= 64 { deep.removeLast() }
        }
        /// Whether the innermost open container is an object (the caller checks one is open).
        func innermostIsObject() -> Bool? {
            depth <= 64 ? shallow >> (depth - 1) & 1 == 1 : deep.last
        }

        func skipWhitespace() {
            while position < end {
                switch bytes[position] {
                case 0x20, 0x0A, 0x0D, 0x09: position += 1
                default: return
                }
            }
        }
        func truncated(_ message: String) -> JSONSyntaxError {
            JSONSyntaxError(kind: .truncated, offset: position, message: message)
        }
        func invalid(_ message: String) -> JSONSyntaxError {
            JSONSyntaxError(kind: .invalid, offset: position, message: message)
        }
        func skipDigits() {
            while position + 8 <= end {
                let stops = EightBytes.nonDigits(word())
                guard stops == 0 else {
                    position += stops.trailingZeroBitCount / 8
                    return
                }
                position += 8
            }
            while position < end, bytes[position] &- UInt8(ascii: "0") < 10 { position += 1 }
        }
        /// Moves past the string whose opening quote is at `position`.
        func skipString() throws(JSONSyntaxError) {
            position += 1
            let contentStart = position
            var highBits: UInt64 = 0
            while true {
                // The fast run: anything but a quote, a backslash or a control character,
                // 8 bytes at a time, then byte by byte.
                while position + 8 <= end {
                    let chunk = word()
                    let stops = EightBytes.stringStops(chunk)
                    guard stops == 0 else {
                        let count = stops.trailingZeroBitCount / 8
                        highBits |= chunk & ((1 << (count * 8)) &- 1)
                        position += count
                        break
                    }
                    highBits |= chunk
                    position += 8
                }
                while position < end {
                    let byte = bytes[position]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                    highBits |= UInt64(byte)
                    position += 1
                }
                guard position < end else { throw truncated("unterminated string") }
                switch bytes[position] {
                case UInt8(ascii: "\""):
                    if highBits & EightBytes.highBits != 0,
                        String(
                            validating: UnsafeRawBufferPointer(rebasing: bytes[contentStart..<position]), as: UTF8.self)
                            == nil
                    {
                        throw JSONSyntaxError(
                            kind: .invalidUTF8, offset: contentStart, message: "string is not valid UTF-8")
                    }
                    position += 1
                    return
                case UInt8(ascii: "\\"):
                    position += 1
                    guard position < end else { throw truncated("unterminated escape") }
                    switch bytes[position] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        position += 1
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            position += 1
                            guard position < end else { throw truncated("expected four hex digits after \\u") }
                            guard isHexDigit(bytes[position]) else {
                                throw invalid("expected four hex digits after \\u")
                            }
                        }
                        position += 1
                    default:
                        throw invalid("unknown escape '\\\(Unicode.Scalar(bytes[position]))'")
                    }
                default:
                    throw invalid("control character in a string (escape it)")
                }
            }
        }
        func skipNumber() throws(JSONSyntaxError) {
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < end else { throw truncated("expected a digit") }
            switch bytes[position] {
            case UInt8(ascii: "0"): position += 1
            case UInt8(ascii: "1")...UInt8(ascii: "9"): skipDigits()
            default: throw invalid("expected a digit")
            }
            if position < end, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard position < end else { throw truncated("expected a digit after '.'") }
                guard bytes[position] &- UInt8(ascii: "0") < 10 else { throw invalid("expected a digit after '.'") }
                skipDigits()
            }
            if position < end, bytes[position] | 0x20 == UInt8(ascii: "e") {
                position += 1
                if position < end, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
                    position += 1
                }
                guard position < end else { throw truncated("expected a digit in the exponent") }
                guard bytes[position] &- UInt8(ascii: "0") < 10 else {
                    throw invalid("expected a digit in the exponent")
                }
                skipDigits()
            }
        }
        func skipLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
            let text = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
            for expected in text {
                guard position < end else { throw truncated("expected '\(literal)'") }
                guard bytes[position] == expected else { throw invalid("expected '\(literal)'") }
                position += 1
            }
        }

        while true {
            if expect == .next {
                if depth == 0 { return position }
                if depth == 1, let key = memberKey {
                    member(key, memberValueStart..<position)
                    memberKey = nil
                }
            }
            skipWhitespace()
            switch expect {
            case .value:
                if depth == 1 { memberValueStart = position }
                guard position < end else { throw truncated("expected a value") }
                switch bytes[position] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let isObject = bytes[position] == UInt8(ascii: "{")
                    guard depth < JSONParser.maxDepth else {
                        throw invalid("nested deeper than \(JSONParser.maxDepth) levels")
                    }
                    position += 1
                    skipWhitespace()
                    if position < end, bytes[position] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        position += 1
                        expect = .next
                    } else {
                        push(isObject)
                        expect = isObject ? .key : .value
                    }
                    continue
                case UInt8(ascii: "\""): try skipString()
                case UInt8(ascii: "t"): try skipLiteral("true")
                case UInt8(ascii: "f"): try skipLiteral("false")
                case UInt8(ascii: "n"): try skipLiteral("null")
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
                default: throw invalid("expected a value")
                }
                expect = .next
            case .key:
                guard position < end else { throw truncated("expected a string key") }
                guard bytes[position] == UInt8(ascii: "\"") else { throw invalid("expected a string key") }
                let keyStart = position + 1
                try skipString()
                if depth == 1 { memberKey = keyStart..<position - 1 }
                skipWhitespace()
                guard position < end else { throw truncated("expected ':' after an object key") }
                guard bytes[position] == UInt8(ascii: ":") else { throw invalid("expected ':' after an object key") }
                position += 1
                expect = .value
            case .next:
                let inObject = innermostIsObject() ?? false
                let message =
                    inObject
                    ? "expected ',' or '}' after an object member" : "expected ',' or ']' after an array element"
                guard position < end else { throw truncated(message) }
                switch bytes[position] {
                case UInt8(ascii: ","):
                    position += 1
                    expect = inObject ? .key : .value
                case inObject ? UInt8(ascii: "}") : UInt8(ascii: "]"):
                    position += 1
                    pop()
                default:
                    throw invalid(message)
                }
            }
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10 || (byte | 0x20) &- UInt8(ascii: "a") < 6
    }
}
