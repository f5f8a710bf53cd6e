import Yams

/// Reads a case file's nodes into a `CaseConfig`.
struct CaseFileParser {
    static let keys = [
        "description", "framework", "entry", "args", "env", "nnodes", "nproc_per_node", "rounds", "round_timeout",
        "dtype", "default_preset", "presets", "metrics",
    ]
    static let presetKeys = ["entry", "args", "env", "nnodes", "nproc_per_node", "rounds", "round_timeout", "dtype"]
    static let metricKeys = ["name", "higher_is_better", "primary", "unit"]
    static let example = "framework: pytorch\nentry: [python3, train.py]"

    private let reader: YAMLNodeReader

    /// - Parameter directory: the case folder; the case is named after it.
    static func parse(_ document: YAMLDocument, directory: ConfigPath, file: ConfigPath) -> ParsedConfig<CaseConfig> {
        let parser = CaseFileParser(reader: YAMLNodeReader(document))
        let config = parser.reader.rootMapping(document, allowedKeys: keys, example: example).map {
            parser.parse($0, directory: directory, file: file)
        }
        return ParsedConfig(value: config, errors: parser.reader.errors)
    }

    private func parse(_ root: MappingReader, directory: ConfigPath, file: ConfigPath) -> CaseConfig {
        let description = root.string("description", example: "description: what this case measures")
        let framework = root.string("framework", example: "framework: pytorch", required: true)
        root.required("entry", example: "entry: [python3, train.py]")
        let settings = overrides(root).applied(to: CaseSettings(entry: []))
        let presets = root.value("presets").map { self.presets($0) } ?? [:]
        let defaultPreset = root.string("default_preset", example: "default_preset: small")
        if let defaultPreset, presets[defaultPreset] == nil, let node = root.value("default_preset") {
            let known = presets.keys.sorted()
            let fix = known.isEmpty ? "add a `presets:` entry named `\(defaultPreset)`, or remove `default_preset`"
                : KeySuggestion.closest(to: defaultPreset, among: known).map { "did you mean `\($0)`?" }
                ?? "use one of: \(known.map { "`\($0)`" }.joined(separator: ", "))"
            reader.report("`default_preset` is `\(defaultPreset)`, but `presets` has no `\(defaultPreset)`",
                          at: node, fix: fix)
        }
        let metrics = root.value("metrics").map { self.metrics($0) } ?? []
        return CaseConfig(
            name: FilePaths.lastComponent(of: directory.absolute), directory: directory.absolute, file: file.absolute,
            description: description, framework: framework ?? "", settings: settings,
            defaultPreset: defaultPreset, presets: presets, metrics: metrics, source: reader.source)
    }

    /// The settings a case or a preset may set.
    private func overrides(_ mapping: MappingReader) -> CaseOverrides {
        let entry = mapping.stringList("entry", example: "entry: [python3, train.py]", nonEmpty: true)
        if entry?.first?.isEmpty == true, let program = mapping.value("entry")?.sequence?.first {
            reader.report("`\(mapping.path.key("entry"))` starts with an empty program name", at: program,
                          fix: "start `entry` with the program to run, e.g. `entry: [python3, train.py]`")
        }
        return CaseOverrides(
            entry: entry,
            args: mapping.stringList("args", example: "args: [--steps, \"100\"]"),
            env: mapping.environment("env"),
            nnodes: mapping.int("nnodes", in: 1...Int.max, example: "nnodes: 2"),
            nprocPerNode: mapping.int("nproc_per_node", in: 1...Int.max, example: "nproc_per_node: 2"),
            rounds: mapping.int("rounds", in: 1...Int.max, example: "rounds: 3"),
            roundTimeout: mapping.positiveNumber("round_timeout", example: "round_timeout: 600"),
            dtype: mapping.string("dtype", example: "dtype: bf16"))
    }

    private func presets(_ node: Node) -> [String: CaseOverrides] {
        let path = YAMLPath.root.key("presets")
        let example = "presets:\n  small: {nnodes: 1, rounds: 1}"
        guard let entries = reader.entries(node, at: path, example: example) else { return [:] }
        var presets: [String: CaseOverrides] = [:]
        for entry in entries {
            guard let mapping = reader.mapping(entry.value, at: path.key(entry.name), allowedKeys: Self.presetKeys,
                                               example: "\(entry.name): {nnodes: 1, rounds: 1}") else { continue }
            presets[entry.name] = overrides(mapping)
        }
        return presets
    }

    private func metrics(_ node: Node) -> [MetricSpec] {
        let path = YAMLPath.root.key("metrics")
        let example = "metrics:\n  - {name: throughput, higher_is_better: true, primary: true, unit: tokens/s}"
        guard let items = reader.sequence(node, at: path, example: example) else { return [] }
        var metrics: [MetricSpec] = []
        var seen: [String: Node] = [:]
        for (index, item) in items.enumerated() {
            guard let mapping = reader.mapping(item, at: path.index(index), allowedKeys: Self.metricKeys,
                                               example: "- {name: throughput, higher_is_better: true}") else { continue }
            let name = mapping.string("name", example: "name: throughput", required: true)
            let higherIsBetter = mapping.bool("higher_is_better", example: "higher_is_better: true", required: true)
            let primary = mapping.bool("primary", example: "primary: true")
            let unit = mapping.string("unit", example: "unit: tokens/s")
            guard let name, let higherIsBetter, let nameNode = mapping.value("name") else { continue }
            if let first = seen[name] {
                reader.report("metric `\(name)` is listed twice: it is already at \(reader.position(of: first))",
                              at: nameNode, fix: "keep one `name: \(name)` entry in `metrics` and delete or rename the other")
                continue
            }
            seen[name] = nameNode
            metrics.append(MetricSpec(name: name, higherIsBetter: higherIsBetter, primary: primary ?? false, unit: unit))
        }
        return metrics
    }
}
