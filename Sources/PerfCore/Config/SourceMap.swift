/// Where each value of a config file was written, by its key path (`hosts[1].ssh.port`,
/// `presets.full.nnodes`, `env.PATH`; the root mapping is `""`). Lets checks made after loading
/// point at the line that set a value.
///
/// Positions are not part of a config's value: all source maps compare equal, so configs compare
/// by their settings alone, wherever in a file those were written.
public struct SourceMap: Sendable, Equatable {
    private var locations: [String: SourceLocation] = [:]

    public init() {}

    /// Always `true`: positions are not part of a config's value (see above).
    public static func == (_: SourceMap, _: SourceMap) -> Bool { true }

    /// The position of the value at `keyPath`, if the file set it.
    public subscript(keyPath: String) -> SourceLocation? {
        get { locations[keyPath] }
        set { locations[keyPath] = newValue }
    }
}

/// A key path into a YAML document as messages and `SourceMap` name it: `hosts[1].ssh.port`;
/// keys that are not plain words are quoted: `presets["a.b"]`.
struct YAMLPath: CustomStringConvertible {
    static let root = YAMLPath(description: "")

    let description: String

    var isRoot: Bool { description.isEmpty }

    func key(_ name: String) -> YAMLPath {
        let plain = !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        if !plain { return YAMLPath(description: description + "[\"\(name)\"]") }
        return YAMLPath(description: isRoot ? name : description + "." + name)
    }

    func index(_ index: Int) -> YAMLPath { YAMLPath(description: description + "[\(index)]") }
}
