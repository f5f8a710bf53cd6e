import Foundation
import Testing

@testable import PerfCore

/// Scans `bytes` fed in chunks of `chunkSize` (all at once by default) and finishes the stream.
private func scan(_ bytes: [UInt8], chunkSize: Int? = nil, maxLineBytes: Int = PerfLogScanner.defaultMaxLineBytes)
    -> (events: [PerfLogEvent], report: PerfLogReport)
{
    var scanner = PerfLogScanner(maxLineBytes: maxLineBytes)
    var events: [PerfLogEvent] = []
    var offset = 0
    let size = max(chunkSize ?? bytes.count, 1)
    while offset < bytes.count {
        let end = min(bytes.count, offset + size)
        scanner.consume(bytes[offset..<end])
        events += scanner.takeEvents()
        offset = end
    }
    scanner.finish()
    events += scanner.takeEvents()
    return (events, scanner.report)
}

private func scan(_ text: String, chunkSize: Int? = nil) -> (events: [PerfLogEvent], report: PerfLogReport) {
    scan(Array(text.utf8), chunkSize: chunkSize)
}

private let stepEnd =
    #"[PerfLog] {"event": "STEP_END", "value": {"step": 3, "loss": 2.1}, "#
    + #""metadata": {"time_ms": 1700000000000, "rank": 0}}"#

@Suite("PerfLog scanner")
struct PerfLogScannerTests {
    @Test func tokenAnywhereInLineAfterLauncherPrefixes() {
        let log = """
            plain chatter line
            \(stepEnd)
            2026-11-23 10:00:01 rank0: \(stepEnd)
            [rank3]:\(stepEnd)
            """
        let (events, report) = scan(log)
        #expect(events.map(\.line) == [2, 3, 4])
        #expect(events.allSatisfy { $0.name == "STEP_END" })
        #expect(report.events == 3)
        #expect(report.linesScanned == 4)
        #expect(report.badLines.isEmpty)
        #expect(report.bytesScanned == log.utf8.count)
    }

    @Test func eventCarriesValueMetadataRankAndTime() throws {
        let (events, _) = scan(stepEnd + "\n")
        let event = try #require(events.first)
        #expect(event.value == ["step": .number(3), "loss": .number(2.1)])
        #expect(event.metadata == ["time_ms": .number(1_700_000_000_000), "rank": .number(0)])
        #expect(event.rank == 0)
        #expect(event.timeMs == 1_700_000_000_000)
        #expect(event == PerfLogEvent(name: "STEP_END", value: event.value, metadata: event.metadata, line: 1))
    }

    @Test func absentOrNullValueAndMetadataAreEmpty() {
        let (events, report) = scan(
            """
            [PerfLog] {"event": "INIT_START"}
            [PerfLog] {"event": "INIT_END", "value": null, "metadata": null, "extra": [1, {"a": 2}]}
            """)
        #expect(events.map(\.name) == ["INIT_START", "INIT_END"])
        #expect(events.allSatisfy { $0.value.isEmpty && $0.metadata.isEmpty && $0.rank == nil && $0.timeMs == nil })
        #expect(report.badLines.isEmpty)
    }

    @Test func escapedKeysCountAndRepeatedMembersKeepTheLast() throws {
        let (events, report) = scan(
            #"[PerfLog] {"\u0065vent": "A", "value": {"x": 1}, "value": {"x": 2, "x": 3}, "metadata": {"r\u00e9": 1}}"#)
        #expect(report.badLines.isEmpty)
        let event = try #require(events.first)
        #expect(event.name == "A")
        #expect(event.value == ["x": .number(3)])
        #expect(event.metadata == ["ré": .number(1)])
    }

    @Test func everySplitPointGivesTheSameResultAsOneChunk() {
        let log = Array(
            """
            chatter before\r
            rank1: \(stepEnd)\r
            [PerfLog] {"event": "BAD", "value": [1]}
            x[PerfLog] {"event": "EVALUATE", "value": {"acc": 0.5, "s": "\\u00e9\\ud83d\\ude00"}}
            [PerfLog] {"event": "CUT", "value": {"a":
            last line without newline [PerfLog] {"event": "FINISHED", "value": {"e2e_time": 12.5}}
            """.utf8)
        let whole = scan(log)
        #expect(whole.events.map(\.name) == ["STEP_END", "EVALUATE", "FINISHED"])
        #expect(whole.report.badLines == [.wrongFieldType: 1, .truncatedJSON: 1])
        for split in 0...log.count {
            var scanner = PerfLogScanner()
            scanner.consume(log[..<split])
            scanner.consume(log[split...])
            scanner.finish()
            let events = scanner.takeEvents()
            #expect(events == whole.events, "split at \(split)")
            #expect(scanner.report == whole.report, "split at \(split)")
        }
        let byteByByte = scan(log, chunkSize: 1)
        #expect(byteByByte.events == whole.events)
        #expect(byteByByte.report == whole.report)
    }

    @Test func crlfLineEndingsAreStripped() {
        let (events, report) = scan("a\r\n\(stepEnd)\r\nb\r\n[PerfLog] {\"event\": \"X\"}\r\n")
        #expect(events.map(\.name) == ["STEP_END", "X"])
        #expect(events.map(\.line) == [2, 4])
        #expect(report.badLines.isEmpty)
        #expect(report.linesScanned == 4)
    }

    @Test func truncatedJSONIsCountedAndScanningGoesOn() throws {
        let (events, report) = scan(
            """
            [PerfLog] {"event": "STEP_END", "value": {"loss": 2.
            [PerfLog] {"event": "STEP_END", "val
            [PerfLog]
            \(stepEnd)
            """)
        #expect(events.map(\.line) == [4])
        #expect(report.badLines == [.truncatedJSON: 3])
        let first = try #require(report.samples.first)
        #expect(first.line == 1)
        #expect(first.reason == .truncatedJSON)
        #expect(first.column == 53)
        #expect(first.excerpt.hasPrefix("[PerfLog] {\"event\": \"STEP_END\""))
    }

    @Test func invalidUTF8InAPerfLogLineIsCountedButIgnoredElsewhere() throws {
        var log = Array("chatter \u{FF} ".utf8) + [0xFF, 0xC3, 0x28] + Array("\n".utf8)
        log += Array(#"[PerfLog] {"event": "A", "value": {"s": ""#.utf8) + [0xC3, 0x28] + Array("\"}}\n".utf8)
        log += Array(#"[PerfLog] {"event": "B"} "#.utf8) + [0xFE] + Array("\n".utf8)
        log += Array(stepEnd.utf8)
        let (events, report) = scan(log)
        #expect(events.map(\.line) == [4])
        #expect(report.badLines == [.invalidUTF8: 2])
        let sample = try #require(report.samples.first)
        #expect(sample.line == 2)
        #expect(sample.excerpt.contains("\\xC3("))
    }

    @Test func nulByteIsCounted() {
        var log = Array(#"[PerfLog] {"event": "A", "value": {"s": "a"#.utf8) + [0] + Array("\"}}\n".utf8)
        log += [0, 0, 0] + Array("chatter after a crash left NULs\n".utf8)
        log += Array(stepEnd.utf8)
        let (events, report) = scan(log)
        #expect(events.map(\.line) == [3])
        #expect(report.badLines == [.nulByte: 1])
        #expect(report.samples.first?.excerpt.contains("\\x00") == true)
    }

    @Test func threeMiBLineIsSkippedWithBoundedMemory() {
        let huge =
            Array("rank0: [PerfLog] {\"event\": \"HUGE\", \"value\": {\"blob\": \"".utf8)
            + [UInt8](repeating: UInt8(ascii: "x"), count: 3 << 20) + Array("\"}}\n".utf8)
        let plainHuge = [UInt8](repeating: UInt8(ascii: "y"), count: 3 << 20) + [UInt8(ascii: "\n")]
        let log = huge + plainHuge + Array((stepEnd + "\n").utf8)
        var scanner = PerfLogScanner()
        var largest = 0
        var offset = 0
        while offset < log.count {
            let end = min(log.count, offset + 64 * 1024)
            scanner.consume(log[offset..<end])
            largest = max(largest, scanner.bufferedByteCount)
            offset = end
        }
        scanner.finish()
        #expect(largest <= PerfLogScanner.defaultMaxLineBytes)
        #expect(scanner.bufferedByteCount == 0)
        #expect(scanner.takeEvents().map(\.line) == [3])
        #expect(scanner.report.badLines == [.oversizedLine: 1])
        #expect(scanner.report.samples.first?.column == 8)
        #expect(scanner.report.samples.first?.excerpt.hasPrefix("[PerfLog] {\"event\": \"HUGE\"") == true)
        #expect(scanner.report.linesScanned == 3)
    }

    @Test func oversizedLineWithinOneChunkIsSkippedToo() {
        let line = "[PerfLog] {\"event\": \"BIG\", \"value\": {\"s\": \"\(String(repeating: "z", count: 200))\"}}\n"
        let (events, report) = scan(Array((line + #"[PerfLog] {"event": "S"}"#).utf8), maxLineBytes: 100)
        #expect(events.map(\.line) == [2])
        #expect(report.badLines == [.oversizedLine: 1])
    }

    @Test func twoTokensOnOneLineKeepEachCompleteEventAndCountTheLine() throws {
        let (events, report) = scan(
            """
            [PerfLog] {"event": "A"} [PerfLog] {"event": "B", "value": {"x": 1}}
            [PerfLog] {"event": "C", [PerfLog] {"event": "D"}
            [PerfLog] {"event": "E", "value": {"note": "mentions [PerfLog] inside a string"}}
            """)
        #expect(events.map(\.name) == ["A", "B", "D", "E"])
        #expect(events.map(\.line) == [1, 1, 2, 3])
        #expect(report.badLines == [.multipleTokens: 2])
        let sample = try #require(report.samples.first)
        #expect(sample.column == 26)
    }

    @Test func jsonThatIsNotAnObjectIsCounted() {
        let (events, report) = scan("[PerfLog] [1, 2]\n[PerfLog] \"STEP_END\"\n[PerfLog] 42\n[PerfLog] null")
        #expect(events.isEmpty)
        #expect(report.badLines == [.notAnObject: 4])
    }

    @Test func missingOrNonStringEventIsCounted() {
        let (events, report) = scan(
            """
            [PerfLog] {"value": {"step": 1}}
            [PerfLog] {"event": 7}
            [PerfLog] {}
            """)
        #expect(events.isEmpty)
        #expect(report.badLines == [.missingEvent: 3])
        #expect(
            report.samples.map(\.detail) == [
                "no \"event\" member", "\"event\" is a number, not a string", "no \"event\" member",
            ])
    }

    @Test func valueOrMetadataOfTheWrongTypeIsCounted() {
        let (events, report) = scan(
            """
            [PerfLog] {"event": "A", "value": [1, 2]}
            [PerfLog] {"event": "B", "metadata": "rank0"}
            [PerfLog] {"event": "C", "value": true}
            """)
        #expect(events.isEmpty)
        #expect(report.badLines == [.wrongFieldType: 3])
        #expect(report.samples.first?.detail == "\"value\" is an array, not an object")
    }

    @Test func trailingGarbageIsInvalidButTrailingWhitespaceIsNot() {
        let (events, report) = scan(
            "[PerfLog] {\"event\": \"A\"}  \t \n[PerfLog] {\"event\": \"B\"} x\n[PerfLog] {\"event\": \"C\"}}")
        #expect(events.map(\.name) == ["A"])
        #expect(report.badLines == [.invalidJSON: 2])
        #expect(report.samples.first?.detail == "unexpected text after the JSON object")
    }

    @Test func emptyStreamHasNoLines() {
        let (events, report) = scan("")
        #expect(events.isEmpty)
        #expect(report == PerfLogReport())
        let newlines = scan("\n\n")
        #expect(newlines.report.linesScanned == 2)
    }

    @Test func lastLineWithoutNewlineIsScannedOnFinish() {
        var scanner = PerfLogScanner()
        scanner.consume(Array("first\n\(stepEnd)".utf8))
        #expect(scanner.takeEvents().isEmpty)
        #expect(scanner.report.linesScanned == 1)
        scanner.finish()
        #expect(scanner.takeEvents().map(\.line) == [2])
        #expect(scanner.report.linesScanned == 2)
        #expect(scanner.takeEvents().isEmpty)
    }

    @Test func numbersEscapesAndUnicodeAreDecoded() throws {
        let members = [
            #""int": -12"#, #""zero": -0"#, #""exp": 1.5E+3"#, #""small": 1e-05"#,
            #""big": 12345678901234567890123"#, #""pi": 3.141592653589793"#,
            #""esc": "q\"b\\s\/n\nt\tr\rb\bf\f""#, #""bmp": "\u00e9\u4e2d""#, #""pair": "\ud83d\ude00""#,
            #""lone": "\ud800x""#, #""raw": "üñí€😀""#, #""t": true"#, #""f": false"#, #""n": null"#,
        ]
        let line = #"[PerfLog] {"event": "\u0046INISHED", "value": {"# + members.joined(separator: ", ") + "}}"
        let (events, report) = scan(line)
        #expect(report.badLines.isEmpty)
        let event = try #require(events.first)
        #expect(event.name == "FINISHED")
        let value = event.value
        #expect(value["int"] == .number(-12))
        #expect(value["zero"]?.doubleValue?.sign == .minus)
        #expect(value["exp"] == .number(1500))
        #expect(value["small"] == .number(1e-05))
        #expect(value["big"] == .number(12_345_678_901_234_567_741_440))
        #expect(value["pi"] == .number(Double.pi))
        #expect(value["esc"] == .string("q\"b\\s/n\nt\tr\rb\u{08}f\u{0C}"))
        #expect(value["bmp"] == .string("é中"))
        #expect(value["pair"] == .string("😀"))
        #expect(value["lone"] == .string("\u{FFFD}x"))
        #expect(value["raw"] == .string("üñí€😀"))
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["n"] == .null)
    }

    @Test func nestedValuesAreDecodedAndDepthIsBounded() throws {
        let nested = #"[PerfLog] {"event": "E", "value": {"a": {"b": [1, [2, {"c": []}], {}]}}}"#
        let (events, _) = scan(nested)
        let value = try #require(events.first?.value)
        #expect(
            value == [
                "a": .object([
                    "b": .array([.number(1), .array([.number(2), .object(["c": .array([])])]), .object([:])])
                ])
            ])

        // The deepest record accepted (512 levels: the record, its value, 510 arrays) decodes
        // without exhausting a test thread's stack.
        let deepest =
            #"[PerfLog] {"event": "D", "value": {"x": "# + String(repeating: "[", count: 510)
            + String(repeating: "]", count: 510) + "}}"
        var element = try #require(scan(deepest).events.first?.value["x"])
        var depth = 1
        while case .array(let inner) = element, let first = inner.first {
            depth += 1
            element = first
        }
        #expect(depth == 510)

        let deep =
            "[PerfLog] {\"event\": \"D\", \"value\": {\"x\": " + String(repeating: "[", count: 600)
            + String(repeating: "]", count: 600) + "}}"
        let (deepEvents, report) = scan(deep)
        #expect(deepEvents.isEmpty)
        #expect(report.badLines == [.invalidJSON: 1])
        #expect(report.samples.first?.detail == "nested deeper than 512 levels")
    }

    @Test func samplesKeepTheFirstTwentyWithLineAndColumn() {
        let log = (1...30).map { "pad \($0) [PerfLog] {\"event\": \($0)}" }.joined(separator: "\n")
        let (_, report) = scan(log)
        #expect(report.badLines == [.missingEvent: 30])
        #expect(report.samples.count == PerfLogReport.sampleLimit)
        #expect(report.samples.map(\.line) == Array(1...20))
        // Semantic problems point at the object's opening brace.
        #expect(report.samples[0].column == 17)
        #expect(report.samples[9].column == 18)
        #expect(report.badLineCount == 30)
    }

    @Test func reportEncodesReasonsAsKeys() throws {
        let (_, report) = scan("[PerfLog] {\n[PerfLog] [1]")
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains(#""truncated_json":1"#))
        #expect(json.contains(#""not_an_object":1"#))
        #expect(try JSONDecoder().decode(PerfLogReport.self, from: Data(json.utf8)) == report)
    }

    @Test func eventEncodesDecodedFields() throws {
        let (events, _) = scan(stepEnd)
        let event = try #require(events.first)
        let decoded = try JSONDecoder().decode(PerfLogEvent.self, from: try JSONEncoder().encode(event))
        #expect(decoded == event)
        var edited = event
        edited.value["loss"] = .number(1)
        #expect(edited.value["loss"] == .number(1))
        #expect(edited.metadata == event.metadata)
    }

    @Test func scanFileReadsChunksAndFindsEveryEvent() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("perflog-\(UUID().uuidString).log")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = (1...500).map { $0 % 5 == 0 ? "[rank0]:\(stepEnd)" : "step \($0) chatter [INFO] loss=1.0" }
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        let result = try PerfLogScanner.scan(file: path, chunkSize: 777)
        #expect(result.events.map(\.line) == Array(stride(from: 5, through: 500, by: 5)))
        #expect(result.report.linesScanned == 500)
        #expect(result.report.events == 100)

        var streamed = 0
        let report = try PerfLogScanner.scan(file: path) { streamed += $0.count }
        #expect(streamed == 100)
        #expect(report == result.report)

        try Data().write(to: URL(fileURLWithPath: path))
        let empty = try PerfLogScanner.scan(file: path)
        #expect(empty.events.isEmpty)
        #expect(empty.report == PerfLogReport())
    }

    @Test func scanOfAMissingFileSaysWhichAndWhy() {
        #expect {
            _ = try PerfLogScanner.scan(file: "/nonexistent/rank0.out.log")
        } throws: { error in
            (error as? PerfLogFileError)?.description
                == "cannot read PerfLog file /nonexistent/rank0.out.log: No such file or directory"
        }
    }
}
