import Yams

/// Reads a vendor file's nodes into a `VendorConfig`.
struct VendorFileParser {
    static let keys = ["description", "runtime", "image", "visible_devices_env", "devices_per_node", "device_query", "peak_flops", "env"]
    static let example = "runtime: process\npeak_flops: {fp32: 7.2e10}"

    private let reader: YAMLNodeReader

    static func parse(_ document: YAMLDocument, name: String, file: ConfigPath) -> ParsedConfig<VendorConfig> {
        let parser = VendorFileParser(reader: YAMLNodeReader(document))
        let config = parser.reader.rootMapping(document, allowedKeys: keys, example: example).map {
            parser.parse($0, name: name, file: file)
        }
        return ParsedConfig(value: config, errors: parser.reader.errors)
    }

    private func parse(_ root: MappingReader, name: String, file: ConfigPath) -> VendorConfig {
        let description = root.string("description", example: "description: what hardware this is")
        let runtime = runtime(root)
        let image = root.string("image", example: "image: perfctl/nvidia-pytorch:latest")
        if let runtime, runtime != .process, image == nil, root.value("image") == nil {
            reader.report("missing `image`: runtime `\(runtime.rawValue)` runs every rank in a container image",
                          at: root.node, fix: "add `image: perfctl/nvidia-pytorch:latest` (your image's name), or set `runtime: process`")
        }
        let visibleDevicesEnv = root.value("visible_devices_env").flatMap {
            reader.string($0, at: .root.key("visible_devices_env"), matching: .upperCaseEnvironmentName,
                          rule: "an upper-case environment variable name ([A-Z_][A-Z0-9_]*)",
                          example: "visible_devices_env: CUDA_VISIBLE_DEVICES")
        }
        let devicesPerNode = root.int("devices_per_node", in: 1...Int.max, example: "devices_per_node: 8")
        let deviceQuery = root.stringList(
            "device_query", example: "device_query: [nvidia-smi, --query-gpu=index, --format=csv,noheader]", nonEmpty: true)
        return VendorConfig(
            name: name, file: file.absolute, description: description, runtime: runtime ?? .process, image: image,
            visibleDevicesEnv: visibleDevicesEnv, devicesPerNode: devicesPerNode, deviceQuery: deviceQuery,
            peakFlops: root.value("peak_flops").map(peakFlops) ?? [:], env: root.environment("env") ?? [:],
            source: reader.source)
    }

    private func runtime(_ root: MappingReader) -> RuntimeKind? {
        let kinds = RuntimeKind.allCases.map(\.rawValue)
        guard let node = root.required("runtime", example: "runtime: process"),
              let value = reader.string(node, at: .root.key("runtime"), example: "runtime: process") else { return nil }
        if let kind = RuntimeKind(rawValue: value) { return kind }
        let fix = KeySuggestion.closest(to: value, among: kinds).map { "did you mean `runtime: \($0)`?" }
            ?? "write `runtime: process` (plain processes), `runtime: docker` or `runtime: podman`"
        reader.report("`runtime` is \"\(YAMLNodeReader.truncated(value))\", but it must be one of \(kinds.joined(separator: ", "))",
                      at: node, fix: fix)
        return nil
    }

    private func peakFlops(_ node: Node) -> [String: Double] {
        let path = YAMLPath.root.key("peak_flops")
        guard let entries = reader.entries(node, at: path, example: "peak_flops: {bf16: 989e12}") else { return [:] }
        var peaks: [String: Double] = [:]
        for entry in entries {
            peaks[entry.name] = reader.positiveNumber(entry.value, at: path.key(entry.name), example: "\(entry.name): 989e12")
        }
        return peaks
    }
}
