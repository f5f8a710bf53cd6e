import Yams

/// Turns a Yams parse error into a `UserError` at the file position libyaml names, with a fix for the
/// common mistakes (tabs, unclosed brackets or quotes, `: ` inside a value, a second document).
enum YAMLSyntaxError {
    static func userError(_ error: YamlError, text: YAMLText, path: String) -> UserError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let position = TextPosition(mark)
            let location = "\(path):\(position.line):\(position.column)"
            if context?.text == "expected a single document in the stream" {
                return UserError(
                    "a second YAML document starts here; a perfctl config file holds one document",
                    at: location, fix: "delete this `---` and what follows it, or merge it into the document above")
            }
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text) at \(TextPosition(context.mark)))"
            }
            return UserError(message, at: location, fix: fix(for: problem, at: position, in: text))
        case .reader(let problem, let offset, let value, let yaml):
            let position = offset.map { readerPosition(characterOffset: $0, in: yaml) }
            let character = value >= 0 ? " (U+\(String(value, radix: 16, uppercase: true)))" : ""
            return UserError(
                "the file contains a character YAML does not allow: \(problem)\(character)",
                at: position.map { "\(path):\($0.line):\($0.column)" } ?? path,
                fix: "delete the character, or write it as an escape inside double quotes, e.g. \"\\t\"")
        default:
            return UserError("cannot parse YAML: \(error)", at: path, fix: nil)
        }
    }

    private static func fix(for problem: String, at position: TextPosition, in text: YAMLText) -> String {
        let character = text.index(line: position.line, column: position.column).map { text.scalars[$0] }
        if problem.contains("cannot start any token"), character == "\t" {
            return "indent with spaces: YAML does not allow tabs for indentation"
        }
        if problem.contains("mapping values are not allowed") {
            return "quote a value that contains `: `, e.g. `key: \"a: b\"`, or indent this line like its siblings"
        }
        if problem.contains("expected ',' or ']'") {
            return "close the list with `]` and separate its items with `,`"
        }
        if problem.contains("expected ',' or '}'") {
            return "close the mapping with `}` and separate its entries with `,`"
        }
        if problem.contains("unexpected end of stream") || problem.contains("end of the stream") {
            return "close the quote or bracket that is still open"
        }
        if problem.contains("did not find expected key") || problem.contains("expected '-' indicator")
            || problem.contains("expected <block end>") || problem.contains("expected <document start>") {
            return "indent this line like its siblings: keys of one mapping (and `-` items of one list) start in the same column"
        }
        if problem.contains("unknown escape character") {
            return "write a backslash as `\\\\` inside double quotes, or use single quotes"
        }
        return "fix the YAML at this position: check indentation, quotes and brackets"
    }

    /// Yams gives a reader error's offset in `Character`s; libyaml positions count Unicode scalars.
    private static func readerPosition(characterOffset: Int, in yaml: String) -> TextPosition {
        let end = yaml.index(yaml.startIndex, offsetBy: characterOffset, limitedBy: yaml.endIndex) ?? yaml.endIndex
        let prefix = YAMLText(String(yaml[..<end]))
        return prefix.position(of: prefix.scalars.count)
    }
}
