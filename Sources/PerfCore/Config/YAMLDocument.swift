import Foundation
import Yams

/// One config file read into Yams nodes: its root node, or the problems that kept it from being read.
///
/// Reading refuses, each with a position where there is one: files over `maximumSize` (before parsing),
/// text that is not UTF-8, YAML syntax errors, a second document, and aliases (`*name`).
///
/// Aliases are refused outright rather than bounded: config files are short and never need them, an
/// aliased value has no position of its own for error messages, and Yams hashes every mapping key while
/// composing, so a key that aliases a nested alias tree costs exponential time before any node count
/// could be checked. They are found safely by composing a copy in which every `*` that could start an
/// alias is replaced by an inert character: a plain scalar that starts at such a `*` was an alias.
///
/// A key repeated in one mapping is reported at each repetition while the rest of the file is still read:
/// Yams names only the first occurrence, so that occurrence is renamed in a private copy of the text
/// and the copy composed again.
struct YAMLDocument {
    /// Config files are a few kilobytes; anything over this is refused unread.
    static let maximumSize = 1 << 20

    /// The path as the caller gave it; locations start with it.
    let path: String
    /// The root node; `nil` when the file is empty or could not be read (then `errors` says why).
    let root: Node?
    /// Problems that kept the file from being read (size, encoding, syntax, aliases); `root` is then `nil`.
    let errors: [UserError]
    /// Keys that repeat an earlier key of their mapping, each reported at the repetition.
    let repeatedKeys: [LocatedError]
    /// Positions of keys that an equal later key of the same mapping overrides; already reported.
    let overriddenKeys: Set<TextPosition>

    /// Reads `file`, which must exist; messages name it by its display path.
    static func read(_ file: ConfigPath) -> YAMLDocument {
        let path = file.display
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.absolute, isDirectory: &isDirectory), isDirectory.boolValue {
            return failed(path, UserError(
                "\(path) is a directory, not a YAML file", at: path,
                fix: "give the path of the YAML file itself, not of its folder"))
        }
        guard let handle = FileHandle(forReadingAtPath: file.absolute) else {
            return failed(path, UserError(
                "cannot open \(path) for reading", at: path, fix: "check the file's permissions (`ls -l \(path)`)"))
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumSize + 1) ?? Data()
        } catch {
            return failed(path, UserError("cannot read \(path): \(error.localizedDescription)", at: path,
                                          fix: "check that the file is a readable regular file"))
        }
        guard data.count <= maximumSize else {
            let size = (try? FileManager.default.attributesOfItem(atPath: file.absolute)[.size] as? Int) ?? data.count
            return failed(path, UserError(
                "the file has \(size) bytes, more than the 1 MiB (\(maximumSize) bytes) a config file may have; it was not read",
                at: path, fix: "check that this is the config file you meant; perfctl config files are a few kilobytes"))
        }
        return parse(data, path: path)
    }

    /// Parses the bytes of a file named `path` in messages.
    private static func parse(_ data: Data, path: String) -> YAMLDocument {
        switch UTF8Check.validate(data) {
        case .valid(let string):
            // Yams sets libyaml's encoding to UTF-8, and then libyaml reads a byte order mark as text.
            let text = string.hasPrefix("\u{FEFF}") ? String(string.unicodeScalars.dropFirst()) : string
            return parse(YAMLText(text), path: path)
        case .invalid(let position, let byte, let looksLikeUTF16):
            return failed(path, UserError(
                "the file is not UTF-8 text: byte 0x\(String(byte, radix: 16, uppercase: true)) at \(position) is not valid UTF-8",
                at: "\(path):\(position.line):\(position.column)",
                fix: looksLikeUTF16 ? "the file looks like UTF-16: save it as UTF-8"
                    : "save the file as UTF-8 (an editor's \"encoding\" setting, or `iconv -t UTF-8`)"))
        }
    }

    private static func parse(_ text: YAMLText, path: String) -> YAMLDocument {
        let candidates = AliasScan.candidates(in: text)
        guard !candidates.isEmpty else { return compose(text, path: path) }
        var inert = text
        for index in candidates { inert.replace(at: index, with: AliasScan.inertScalar) }
        let probe = compose(inert, path: path)
        guard let probeRoot = probe.root else { return probe }
        let aliases = AliasScan.aliases(in: probeRoot, candidates: candidates, text: text)
        guard aliases.isEmpty else {
            return YAMLDocument(
                path: path, root: nil,
                errors: aliases.map { alias in
                    UserError(
                        "YAML alias `*\(alias.name)` is not supported in perfctl config files",
                        at: "\(path):\(alias.position.line):\(alias.position.column)",
                        fix: "write the value out in full here instead of `*\(alias.name)`: perfctl refuses aliases so every value has a line of its own and no file can expand into an alias bomb")
                },
                repeatedKeys: [], overriddenKeys: [])
        }
        return compose(text, path: path)
    }

    /// Composes `text`, renaming the first of each repeated key until Yams accepts it.
    private static func compose(_ original: YAMLText, path: String) -> YAMLDocument {
        var text = original
        var renamed: [RenamedKey] = []
        while true {
            do {
                let root = try Yams.compose(yaml: text.string, .default, .default, .utf8)
                let repeated = root.map { RenamedKey.repetitionErrors(in: $0, renamed: renamed, path: path) } ?? []
                return YAMLDocument(path: path, root: root, errors: [], repeatedKeys: repeated,
                                    overriddenKeys: Set(renamed.map(\.position)))
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                let position = TextPosition(context.mark)
                let name = duplicates.first ?? "?"
                guard renamed.count < RenamedKey.limit,
                      let index = RenamedKey.renameIndex(in: text, at: position) else {
                    return failed(path, UserError(
                        "key `\(name)` appears more than once in this mapping (this is its first occurrence)",
                        at: "\(path):\(position.line):\(position.column)",
                        fix: "keep one `\(name):` in this mapping and delete the others"))
                }
                text.replace(at: index, with: RenamedKey.marker(renamed.count))
                renamed.append(RenamedKey(name: name, position: position))
            } catch let error as YamlError {
                return failed(path, YAMLSyntaxError.userError(error, text: text, path: path))
            } catch {
                return failed(path, UserError("cannot read YAML: \(error)", at: path, fix: nil))
            }
        }
    }

    private static func failed(_ path: String, _ error: UserError) -> YAMLDocument {
        YAMLDocument(path: path, root: nil, errors: [error], repeatedKeys: [], overriddenKeys: [])
    }
}

/// The first occurrence of a repeated key, renamed in the text so the file can still be composed.
private struct RenamedKey {
    /// Renaming stops here; beyond it the first occurrence alone is reported.
    static let limit = 64

    var name: String
    var position: TextPosition

    /// A private-use character, distinct per rename, that no config file contains.
    static func marker(_ number: Int) -> Unicode.Scalar {
        Unicode.Scalar(0xE000 + UInt32(number)) ?? "\u{E000}"
    }

    /// Where to put a marker so the key at `position` gets a new name: the first character of a
    /// plain key, the first character inside a quoted one; `nil` for other keys (lists, tags …).
    static func renameIndex(in text: YAMLText, at position: TextPosition) -> Int? {
        guard let index = text.index(line: position.line, column: position.column) else { return nil }
        let first = text.scalars[index]
        if first == "\"" || first == "'" {
            let inner = index + 1
            guard inner < text.scalars.count else { return nil }
            let scalar = text.scalars[inner]
            return scalar == first || scalar == "\\" || YAMLText.isLineBreak(scalar) ? nil : inner
        }
        return "[]{}!&*?|>%@`#,".unicodeScalars.contains(first) ? nil : index
    }

    /// An error at every key that repeats an earlier key of its mapping.
    static func repetitionErrors(in root: Node, renamed: [RenamedKey], path: String) -> [LocatedError] {
        guard !renamed.isEmpty else { return [] }
        let renamedAt = Dictionary(renamed.map { ($0.position, $0.name) }, uniquingKeysWith: { first, _ in first })
        var errors: [LocatedError] = []
        var pending = [root]
        while let node = pending.popLast() {
            switch node {
            case .mapping(let mapping):
                var occurrences: [String: [TextPosition]] = [:]
                for (key, value) in mapping {
                    pending.append(key)
                    pending.append(value)
                    guard let mark = key.mark else { continue }
                    let position = TextPosition(mark)
                    if let name = renamedAt[position] {
                        occurrences[name, default: []].append(position)
                    } else if let name = key.scalar?.string {
                        occurrences[name, default: []].append(position)
                    }
                }
                for (name, positions) in occurrences where positions.contains(where: { renamedAt[$0] != nil }) {
                    let sorted = positions.sorted()
                    for repeated in sorted.dropFirst() {
                        errors.append(LocatedError(position: repeated, error: UserError(
                            "key `\(name)` is repeated: it is already set at \(sorted[0]) in this mapping",
                            at: "\(path):\(repeated.line):\(repeated.column)",
                            fix: "keep one `\(name):` in this mapping and delete the other")))
                    }
                }
            case .sequence(let sequence):
                pending.append(contentsOf: sequence)
            case .scalar, .alias:
                break
            }
        }
        return errors
    }
}

/// Finds aliases (`*name`) without letting Yams expand them.
private enum AliasScan {
    /// Stands in for a `*` while probing: a private-use character that is plain scalar text.
    static let inertScalar: Unicode.Scalar = "\u{F8FF}"

    /// Indices of every `*` followed by a character libyaml accepts in an anchor name: a superset of
    /// the aliases (it includes `*` inside quotes, comments and the middle of plain scalars).
    static func candidates(in text: YAMLText) -> [Int] {
        let scalars = text.scalars
        return scalars.indices.filter { index in
            scalars[index] == "*" && index + 1 < scalars.count && isAnchorCharacter(scalars[index + 1])
        }
    }

    /// The candidates at which the probe (composed with every candidate made inert) has a plain scalar:
    /// a plain scalar cannot start with `*`, so there the original had an alias.
    static func aliases(in probe: Node, candidates: [Int], text: YAMLText) -> [(name: String, position: TextPosition)] {
        let candidatePositions = Dictionary(
            candidates.map { (text.position(of: $0), $0) }, uniquingKeysWith: { first, _ in first })
        var found: [(name: String, position: TextPosition)] = []
        var pending = [probe]
        while let node = pending.popLast() {
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping { pending.append(key); pending.append(value) }
            case .sequence(let sequence):
                pending.append(contentsOf: sequence)
            case .scalar(let scalar):
                guard scalar.style == .plain, let mark = scalar.mark,
                      let index = candidatePositions[TextPosition(mark)] else { continue }
                let name = String(String.UnicodeScalarView(
                    text.scalars[(index + 1)...].prefix(while: isAnchorCharacter)))
                found.append((name, TextPosition(mark)))
            case .alias:
                break
            }
        }
        return found.sorted { $0.position < $1.position }
    }

    private static func isAnchorCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
    }
}

/// Checks that bytes are UTF-8 and, when not, where the first bad byte is.
private enum UTF8Check {
    enum Outcome {
        case valid(String)
        case invalid(TextPosition, byte: UInt8, looksLikeUTF16: Bool)
    }

    static func validate(_ data: Data) -> Outcome {
        let bytes = [UInt8](data)
        if let string = String(validating: bytes, as: UTF8.self) { return .valid(string) }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        decoding: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput, .error: break decoding
            }
        }
        let prefix = YAMLText(String(decoding: bytes[..<offset], as: UTF8.self))
        let utf16BOM = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
        return .invalid(prefix.position(of: prefix.scalars.count),
                        byte: offset < bytes.count ? bytes[offset] : 0, looksLikeUTF16: utf16BOM)
    }
}
