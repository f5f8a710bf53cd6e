import Yams

/// A line and column in a YAML file, 1-based, as libyaml counts them.
struct TextPosition: Hashable, Comparable, CustomStringConvertible {
    var line: Int
    var column: Int

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(_ mark: Mark) { self.init(line: mark.line, column: mark.column) }

    static func < (a: TextPosition, b: TextPosition) -> Bool { (a.line, a.column) < (b.line, b.column) }

    var description: String { "line \(line), column \(column)" }
}

/// A problem and where in its file it is, so a file's problems can be listed in file order.
struct LocatedError {
    var position: TextPosition
    var error: UserError
}

/// The text of a YAML file as Unicode scalars, addressed by line and column the way libyaml counts them:
/// lines break at LF, CR LF, CR, NEL, LS and PS; columns count Unicode scalars.
struct YAMLText {
    private(set) var scalars: [Unicode.Scalar]
    /// Index in `scalars` of the first scalar of each line; line 1 is `lineStarts[0]`.
    private let lineStarts: [Int]

    init(_ string: String) {
        let scalars = Array(string.unicodeScalars)
        var starts = [0]
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if scalar == "\r", index < scalars.count, scalars[index] == "\n" { index += 1 }
            if Self.isLineBreak(scalar) { starts.append(index) }
        }
        self.scalars = scalars
        self.lineStarts = starts
    }

    var string: String {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)
        return String(text)
    }

    /// The index in `scalars` of 1-based `line` and `column`, if the text has that position.
    func index(line: Int, column: Int) -> Int? {
        guard line >= 1, line <= lineStarts.count, column >= 1 else { return nil }
        let index = lineStarts[line - 1] + column - 1
        return index < scalars.count ? index : nil
    }

    /// The line and column of the scalar at `index` (or of the end, for `scalars.count`).
    func position(of index: Int) -> TextPosition {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= index { low = middle } else { high = middle - 1 }
        }
        return TextPosition(line: low + 1, column: index - lineStarts[low] + 1)
    }

    /// Replaces one scalar; lines and columns stay as they were as long as neither is a line break.
    mutating func replace(at index: Int, with scalar: Unicode.Scalar) {
        scalars[index] = scalar
    }

    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": true
        default: false
        }
    }
}
