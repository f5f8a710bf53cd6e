import Yams

/// Reads typed values out of one document's nodes. Every problem is recorded as a `UserError` at the
/// offending node's `path:line:column`, with what to write instead, and reading goes on so one pass
/// finds them all. Every value read is recorded in `source`.
final class YAMLNodeReader {
    /// The file as the caller named it.
    let path: String
    private let overriddenKeys: Set<TextPosition>
    private let readErrors: [UserError]
    private var problems: [LocatedError]
    /// Key paths that must be set, so a `null` there is not told to fall back to a default.
    private var requiredPaths: Set<String> = []
    private(set) var source = SourceMap()

    init(_ document: YAMLDocument) {
        path = document.path
        overriddenKeys = document.overriddenKeys
        readErrors = document.errors
        problems = document.repeatedKeys
    }

    /// Every problem found so far, in file order.
    var errors: [UserError] {
        readErrors + problems.enumerated()
            .sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }
            .map(\.element.error)
    }

    // MARK: Positions and problems

    func position(of node: Node) -> TextPosition {
        node.mark.map(TextPosition.init) ?? TextPosition(line: 1, column: 1)
    }

    func location(of node: Node) -> String {
        let position = position(of: node)
        return "\(path):\(position.line):\(position.column)"
    }

    func report(_ message: String, at node: Node, fix: String?) {
        problems.append(LocatedError(position: position(of: node),
                                     error: UserError(message, at: location(of: node), fix: fix)))
    }

    private func record(_ node: Node, at keyPath: YAMLPath) {
        let position = position(of: node)
        source[keyPath.description] = SourceLocation(file: path, line: position.line, column: position.column)
    }

    /// Marks `keyPath` as one that has no default.
    func markRequired(_ keyPath: YAMLPath) {
        requiredPaths.insert(keyPath.description)
    }

    // MARK: Containers

    /// The document's top-level mapping, or `nil` after reporting that there is none.
    /// - Parameter example: lines of a valid file, shown when the file is empty or not a mapping.
    func rootMapping(_ document: YAMLDocument, allowedKeys: [String], example: String) -> MappingReader? {
        if document.root == nil, !document.errors.isEmpty { return nil }
        guard let root = document.root, !Self.isNull(root) else {
            problems.append(LocatedError(position: TextPosition(line: 1, column: 1), error: UserError(
                "the file is empty", at: "\(path):1:1",
                fix: "write its settings as `key: value` lines, e.g.\n\(example)")))
            return nil
        }
        guard case .mapping = root else {
            report("the top level of the file must be a mapping of `key: value` lines, but it is \(Self.describe(root))",
                   at: root, fix: "write the settings as `key: value` lines starting in column 1, e.g.\n\(example)")
            return nil
        }
        return mapping(root, at: .root, allowedKeys: allowedKeys, example: example)
    }

    /// `node` as a mapping whose keys must be among `allowedKeys` (each unknown key is reported).
    func mapping(_ node: Node, at keyPath: YAMLPath, allowedKeys: [String], example: String) -> MappingReader? {
        guard let entries = entries(node, at: keyPath, example: example) else { return nil }
        var values: [String: Node] = [:]
        for entry in entries {
            if allowedKeys.contains(entry.name) {
                values[entry.name] = entry.value
                continue
            }
            let place = keyPath.isRoot ? "" : " in `\(keyPath)`"
            let fix = KeySuggestion.closest(to: entry.name, among: allowedKeys).map { "did you mean `\($0)`?" }
                ?? "remove it; the keys allowed here are \(allowedKeys.map { "`\($0)`" }.joined(separator: ", "))"
            report("unknown key `\(entry.name)`\(place)", at: entry.keyNode, fix: fix)
        }
        return MappingReader(node: node, path: keyPath, values: values, reader: self)
    }

    /// The entries of a mapping whose keys are free (env, presets, peak_flops), in file order.
    func entries(_ node: Node, at keyPath: YAMLPath, example: String) -> [(name: String, keyNode: Node, value: Node)]? {
        record(node, at: keyPath)
        guard case .mapping(let mapping) = node else {
            reportType(of: node, at: keyPath, expected: "a mapping of `key: value` entries", example: example)
            return nil
        }
        var result: [(name: String, keyNode: Node, value: Node)] = []
        for (key, value) in mapping where !overriddenKeys.contains(position(of: key)) {
            guard case .scalar(let scalar) = key, !Self.isNull(key), !scalar.string.isEmpty else {
                report("a key\(keyPath.isRoot ? "" : " in `\(keyPath)`") is \(Self.describe(key)), not a name",
                       at: key, fix: "write a plain name before the colon, e.g.\n\(example)")
                continue
            }
            result.append((scalar.string, key, value))
        }
        return result
    }

    /// `node` as a list (`[a, b]` or `- a` lines).
    func sequence(_ node: Node, at keyPath: YAMLPath, example: String) -> [Node]? {
        record(node, at: keyPath)
        guard case .sequence(let sequence) = node else {
            reportType(of: node, at: keyPath, expected: "a list", example: example)
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    /// A scalar as written (numbers and booleans keep their text); empty strings only when `allowEmpty`.
    func string(_ node: Node, at keyPath: YAMLPath, example: String, allowEmpty: Bool = false) -> String? {
        record(node, at: keyPath)
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            reportType(of: node, at: keyPath, expected: "a string", example: example)
            return nil
        }
        guard allowEmpty || !scalar.string.isEmpty else {
            report("`\(keyPath)` is an empty string", at: node, fix: "write a value, e.g. `\(example)`")
            return nil
        }
        return scalar.string
    }

    /// A string that must match `pattern`; `rule` says in words what it must be.
    func string(_ node: Node, at keyPath: YAMLPath, matching pattern: CharacterPattern, rule: String,
                example: String) -> String? {
        guard let value = string(node, at: keyPath, example: example) else { return nil }
        guard pattern.matches(value) else {
            report("`\(keyPath)` is \"\(Self.truncated(value))\", but it must be \(rule)", at: node,
                   fix: "write \(rule), e.g. `\(example)`")
            return nil
        }
        return value
    }

    /// A whole number in `range`.
    func int(_ node: Node, at keyPath: YAMLPath, in range: ClosedRange<Int>, example: String) -> Int? {
        record(node, at: keyPath)
        let expected = range.upperBound == Int.max ? "a whole number ≥ \(range.lowerBound)"
            : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard Self.tag(of: node) == .int, let value = node.int else {
            reportType(of: node, at: keyPath, expected: expected, example: example)
            return nil
        }
        guard range.contains(value) else {
            report("`\(keyPath)` is \(value), but it must be \(expected)", at: node,
                   fix: "write \(expected), e.g. `\(example)`")
            return nil
        }
        return value
    }

    /// A finite number greater than zero (`3600`, `1.5`, `9.6e10`).
    func positiveNumber(_ node: Node, at keyPath: YAMLPath, example: String) -> Double? {
        record(node, at: keyPath)
        let expected = "a number > 0"
        let tag = Self.tag(of: node)
        guard tag == .int || tag == .float, let value = node.float else {
            reportType(of: node, at: keyPath, expected: expected, example: example)
            return nil
        }
        guard value.isFinite, value > 0 else {
            report("`\(keyPath)` is \(node.string ?? String(value)), but it must be a finite number > 0", at: node,
                   fix: "write \(expected), e.g. `\(example)`")
            return nil
        }
        return value
    }

    /// `true` or `false`.
    func bool(_ node: Node, at keyPath: YAMLPath, example: String) -> Bool? {
        record(node, at: keyPath)
        guard Self.tag(of: node) == .bool, let value = node.bool else {
            reportType(of: node, at: keyPath, expected: "true or false", example: example)
            return nil
        }
        return value
    }

    // MARK: Composite values

    /// A list of strings, each item as written; `nil` (after reporting) when it or any item is not.
    func stringList(_ node: Node, at keyPath: YAMLPath, example: String, nonEmpty: Bool) -> [String]? {
        if case .scalar(let scalar) = node, Self.tag(of: node) == .str, !scalar.string.isEmpty {
            let words = scalar.string.split(whereSeparator: \.isWhitespace).map(String.init)
            report("`\(keyPath)` must be a list of strings, but it is \(Self.describe(node))", at: node,
                   fix: "write one list item per word, e.g. `\(keyPath.leaf): [\(words.joined(separator: ", "))]`")
            return nil
        }
        guard let items = sequence(node, at: keyPath, example: example) else { return nil }
        guard !nonEmpty || !items.isEmpty else {
            report("`\(keyPath)` is an empty list", at: node, fix: "write at least one item, e.g. `\(example)`")
            return nil
        }
        let strings = items.enumerated().compactMap { index, item in
            string(item, at: keyPath.index(index), example: example, allowEmpty: true)
        }
        return strings.count == items.count ? strings : nil
    }

    /// Environment variables: names like `OMP_NUM_THREADS`, values strings (quoted when they look like numbers).
    func environment(_ node: Node, at keyPath: YAMLPath) -> [String: String]? {
        let example = "\(keyPath.leaf): {OMP_NUM_THREADS: \"1\"}"
        guard let entries = entries(node, at: keyPath, example: example) else { return nil }
        var environment: [String: String] = [:]
        var valid = true
        for entry in entries {
            let entryPath = keyPath.key(entry.name)
            guard CharacterPattern.environmentName.matches(entry.name) else {
                report("`\(entry.name)` in `\(keyPath)` is not a valid environment variable name", at: entry.keyNode,
                       fix: "use letters, digits and `_`, not starting with a digit, e.g. `MY_SETTING`")
                valid = false
                continue
            }
            record(entry.value, at: entryPath)
            let tag = Self.tag(of: entry.value)
            guard case .scalar(let scalar) = entry.value, tag == .str else {
                let written = entry.value.scalar?.string ?? ""
                let fix = tag == .null
                    ? "write a value, e.g. `\(entry.name): \"\"` for an empty one, or remove the line"
                    : entry.value.scalar != nil ? "quote it: `\(entry.name): \"\(written)\"`"
                    : "write one string value, e.g. `\(entry.name): \"value\"`"
                report("`\(entryPath)` must be a string, but it is \(Self.describe(entry.value))", at: entry.value, fix: fix)
                valid = false
                continue
            }
            environment[entry.name] = scalar.string
        }
        return valid ? environment : nil
    }

    // MARK: Describing nodes

    /// Reports that `node` is not `expected`; says when quotes are all that is wrong.
    func reportType(of node: Node, at keyPath: YAMLPath, expected: String, example: String) {
        if Self.isNull(node) {
            let orDefault = requiredPaths.contains(keyPath.description) ? "" : ", or remove the line to use the default"
            report("`\(keyPath)` has no value (\(Self.describe(node)))", at: node,
                   fix: "write \(expected), e.g. `\(example)`\(orDefault)")
            return
        }
        var fix = "write \(expected), e.g. `\(example)`"
        if case .scalar(let scalar) = node, scalar.style == .singleQuoted || scalar.style == .doubleQuoted,
           Self.tag(of: Node(scalar.string)) != .str {
            fix = "remove the quotes: `\(keyPath.leaf): \(scalar.string)`"
        }
        report("`\(keyPath)` must be \(expected), but it is \(Self.describe(node))", at: node, fix: fix)
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            switch tag(of: node) {
            case .null: return scalar.string.isEmpty ? "empty" : "`\(scalar.string)`, which YAML reads as null"
            case .int: return "the whole number \(scalar.string)"
            case .float: return "the number \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            default: return "the string \"\(truncated(scalar.string))\""
            }
        case .mapping: return "a mapping (`key: value` entries)"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func isNull(_ node: Node) -> Bool { tag(of: node) == .null }

    private static func tag(of node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    static func truncated(_ text: String) -> String {
        text.count <= 60 ? text : String(text.prefix(57)) + "…"
    }
}

/// The known keys of one YAML mapping, read by name; reading records positions and reports problems.
struct MappingReader {
    let node: Node
    let path: YAMLPath
    fileprivate let values: [String: Node]
    let reader: YAMLNodeReader

    /// The value node of `key`, if present.
    func value(_ key: String) -> Node? { values[key] }

    /// The value node of `key`; reports it missing (at this mapping) when absent.
    @discardableResult
    func required(_ key: String, example: String) -> Node? {
        reader.markRequired(path.key(key))
        if let value = values[key] { return value }
        let place = path.isRoot ? "" : " in `\(path)`"
        reader.report("missing required key `\(key)`\(place)", at: node, fix: "add `\(example)`")
        return nil
    }

    func string(_ key: String, example: String, required: Bool = false) -> String? {
        node(key, example: example, required: required).flatMap {
            reader.string($0, at: path.key(key), example: example)
        }
    }

    func int(_ key: String, in range: ClosedRange<Int>, example: String) -> Int? {
        value(key).flatMap { reader.int($0, at: path.key(key), in: range, example: example) }
    }

    func positiveNumber(_ key: String, example: String) -> Double? {
        value(key).flatMap { reader.positiveNumber($0, at: path.key(key), example: example) }
    }

    func bool(_ key: String, example: String, required: Bool = false) -> Bool? {
        node(key, example: example, required: required).flatMap {
            reader.bool($0, at: path.key(key), example: example)
        }
    }

    func stringList(_ key: String, example: String, nonEmpty: Bool = false) -> [String]? {
        value(key).flatMap { reader.stringList($0, at: path.key(key), example: example, nonEmpty: nonEmpty) }
    }

    func environment(_ key: String) -> [String: String]? {
        value(key).flatMap { reader.environment($0, at: path.key(key)) }
    }

    private func node(_ key: String, example: String, required: Bool) -> Node? {
        required ? self.required(key, example: example) : value(key)
    }
}

extension YAMLPath {
    /// The last key, for `key: value` examples.
    var leaf: String {
        let last = description.split(separator: ".").last.map(String.init) ?? description
        return last.split(separator: "[").first.map(String.init) ?? last
    }
}
