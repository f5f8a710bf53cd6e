/// An error a user can act on: what went wrong, where, and what to do about it.
///
/// Every module turns its own failures into `UserError`s at the boundary the
/// user sees; the CLI renders them. `location` is a file position
/// (`cluster.yaml:3:5`), a host, or a rank.
public struct UserError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is: `path:line:column`, `host node1`, `host node1, rank 3` …
    public var location: String?
    /// What is wrong, in one sentence.
    public var message: String
    /// What to do instead; `nil` only when there is nothing the user can do.
    public var fix: String?

    public init(_ message: String, at location: String? = nil, fix: String? = nil) {
        self.location = location
        self.message = message
        self.fix = fix
    }

    public var description: String {
        var text = location.map { "\($0): error: \(message)" } ?? "error: \(message)"
        if let fix { text += "\n  fix: \(fix)" }
        return text
    }
}

/// Several user errors reported together, e.g. every problem of one config file.
public struct UserErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [UserError]

    public init(_ errors: [UserError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// A position in a text file, 1-based, as editors show it.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
