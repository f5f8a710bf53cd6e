/// Expands `${NAME}` references in planned environment values on the node.
///
/// A reference resolves to another planned variable whose value holds no
/// reference, or else to the node's own environment (so
/// `PATH: "${PERF_HOME}/.venv/bin:${PATH}"` extends the node's PATH).
/// Undefined variables expand to the empty string, as in a shell.
public enum EnvironmentExpansion {
    /// The rank's complete environment: `inherited` overlaid with `planned`, references expanded.
    public static func expand(_ planned: [String: String], inherited: [String: String]) -> [String: String] {
        let literal = planned.filter { !$0.value.contains("${") }
        var result = inherited.merging(literal) { _, plannedValue in plannedValue }
        for (key, value) in planned where value.contains("${") {
            result[key] = substitute(value) { name in
                name == key ? inherited[name] : (literal[name] ?? inherited[name])
            }
        }
        return result
    }

    /// `text` with each `${NAME}` replaced by `lookup(NAME)` (empty when nil).
    public static func substitute(_ text: String, lookup: (String) -> String?) -> String {
        var output = ""
        var rest = text[...]
        while let open = rest.range(of: "${") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                output += rest[open.lowerBound...]
                return output
            }
            output += lookup(String(rest[open.upperBound..<close])) ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }
}
