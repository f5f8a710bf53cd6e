import Yams

/// A cluster file's config with its cases and vendors folders as messages name them.
struct ClusterFile {
    var config: ClusterConfig
    var casesDirectory: ConfigPath
    var vendorsDirectory: ConfigPath
}

/// Reads a cluster file's nodes into a `ClusterConfig`.
struct ClusterFileParser {
    static let keys = ["vendor", "results_dir", "cases_dir", "vendors_dir", "master_port", "agent_root", "heartbeat_timeout", "env", "ssh", "hosts"]
    static let hostKeys = ["address", "name", "ssh", "agent_root"]
    static let sshKeys = ["port", "user", "identity", "known_hosts"]
    static let example = "vendor: cpu\nhosts:\n  - address: localhost"

    private let reader: YAMLNodeReader

    static func parse(_ document: YAMLDocument, file: ConfigPath) -> ParsedConfig<ClusterFile> {
        let parser = ClusterFileParser(reader: YAMLNodeReader(document))
        let cluster = parser.reader.rootMapping(document, allowedKeys: keys, example: example).map {
            parser.parse($0, file: file)
        }
        return ParsedConfig(value: cluster, errors: parser.reader.errors)
    }

    private func parse(_ root: MappingReader, file: ConfigPath) -> ClusterFile {
        let folder = file.parent
        let vendor = root.required("vendor", example: "vendor: cpu").flatMap {
            reader.string($0, at: .root.key("vendor"), matching: .fileName,
                          rule: "the name of a folder under the vendors folder (letters, digits, `.`, `_`, `-`)",
                          example: "vendor: cpu")
        }
        let results = folder.resolving(root.string("results_dir", example: "results_dir: results") ?? "results")
        let cases = folder.resolving(root.string("cases_dir", example: "cases_dir: cases") ?? "cases")
        let vendors = folder.resolving(root.string("vendors_dir", example: "vendors_dir: vendors") ?? "vendors")
        let masterPort = root.int("master_port", in: 1...65535, example: "master_port: 29500") ?? 29500
        let agentRoot = root.string("agent_root", example: "agent_root: ~/.perf-agent") ?? "~/.perf-agent"
        let heartbeatTimeout = root.positiveNumber("heartbeat_timeout", example: "heartbeat_timeout: 15") ?? 15
        let env = root.environment("env") ?? [:]
        let sshDefaults = root.value("ssh").map { ssh($0, at: .root.key("ssh"), base: SSHSettings()) } ?? SSHSettings()
        let hosts = hosts(root, sshDefaults: sshDefaults)
        let config = ClusterConfig(
            file: file.absolute, vendor: vendor ?? "", resultsDirectory: results.absolute,
            casesDirectory: cases.absolute, vendorsDirectory: vendors.absolute, masterPort: masterPort,
            agentRoot: agentRoot, heartbeatTimeout: heartbeatTimeout, env: env, hosts: hosts, source: reader.source)
        return ClusterFile(config: config, casesDirectory: cases, vendorsDirectory: vendors)
    }

    private func hosts(_ root: MappingReader, sshDefaults: SSHSettings) -> [HostConfig] {
        let example = "hosts:\n  - address: localhost"
        guard let node = root.required("hosts", example: example) else { return [] }
        let path = YAMLPath.root.key("hosts")
        guard let items = reader.sequence(node, at: path, example: "hosts: [{address: localhost}]") else { return [] }
        guard !items.isEmpty else {
            reader.report("`hosts` is an empty list; the cluster needs at least one host", at: node,
                          fix: "list the hosts in node-rank order, e.g.\n\(example)")
            return []
        }
        var hosts: [HostConfig] = []
        var byName: [String: (index: Int, node: Node)] = [:]
        var byEndpoint: [String: (index: Int, node: Node)] = [:]
        for (index, item) in items.enumerated() {
            guard let parsed = host(item, at: path.index(index), sshDefaults: sshDefaults) else { continue }
            let host = parsed.config
            if let first = byName[host.name] {
                reader.report(
                    "host name `\(host.name)` of `hosts[\(index)]` is already used by `hosts[\(first.index)]` at \(reader.position(of: first.node))",
                    at: parsed.nameNode,
                    fix: "give every host a unique `name:` (it names the host's result folders)")
            } else {
                byName[host.name] = (index, parsed.nameNode)
            }
            let endpoint = "\(host.address) port \(host.ssh.port)"
            if let first = byEndpoint[endpoint] {
                reader.report(
                    "`hosts[\(index)]` is \(host.address) (ssh port \(host.ssh.port)), the same machine as `hosts[\(first.index)]` at \(reader.position(of: first.node))",
                    at: parsed.addressNode,
                    fix: "list each machine once and raise `nproc_per_node` in the case for more ranks per node; to simulate several nodes on one machine use distinct loopback addresses (127.0.0.1, 127.0.0.2 …)")
            } else {
                byEndpoint[endpoint] = (index, parsed.addressNode)
            }
            hosts.append(host)
        }
        return hosts
    }

    private func host(_ node: Node, at path: YAMLPath, sshDefaults: SSHSettings)
        -> (config: HostConfig, nameNode: Node, addressNode: Node)?
    {
        guard let mapping = reader.mapping(node, at: path, allowedKeys: Self.hostKeys,
                                           example: "- {address: node1, name: node1}") else { return nil }
        let addressNode = mapping.required("address", example: "address: node1")
        let address = addressNode.flatMap { self.address($0, at: path.key("address")) }
        let nameNode = mapping.value("name")
        let name = nameNode.flatMap { self.name($0, at: path.key("name")) }
        let ssh = mapping.value("ssh").map { self.ssh($0, at: path.key("ssh"), base: sshDefaults) } ?? sshDefaults
        let agentRoot = mapping.string("agent_root", example: "agent_root: /scratch/perf-agent")
        guard let address, let addressNode else { return nil }
        if let nameNode {
            return name.map { (HostConfig(name: $0, address: address, ssh: ssh, agentRoot: agentRoot), nameNode, addressNode) }
        }
        guard CharacterPattern.fileName.matches(address) else {
            reader.report(
                "`\(path)` has no `name`, and its address `\(address)` cannot stand in for one: the name goes into result folder names",
                at: addressNode, fix: "add a `name:` of letters, digits, `.`, `_` or `-`, e.g. `name: node\(path.description.filter(\.isNumber))`")
            return nil
        }
        return (HostConfig(name: address, address: address, ssh: ssh, agentRoot: agentRoot), addressNode, addressNode)
    }

    private func name(_ node: Node, at path: YAMLPath) -> String? {
        reader.string(node, at: path, matching: .fileName,
                      rule: "a name of letters, digits, `.`, `_` or `-` (it names result folders)", example: "name: node1")
    }

    /// A DNS name or IP address: nothing a shell or ssh could read as more than a host.
    private func address(_ node: Node, at path: YAMLPath) -> String? {
        guard let address = reader.string(node, at: path, example: "address: node1") else { return nil }
        let problem: (what: String, fix: String)?
        if address.contains(where: \.isWhitespace) {
            problem = ("contains whitespace",
                       "write only the host's DNS name or IP address, e.g. `address: node1`")
        } else if address.contains("@") {
            problem = ("contains `@`", "write the user under `ssh:`, e.g. `ssh: {user: root}`, and only the host in `address`")
        } else if address.hasPrefix("-") {
            problem = ("starts with `-`", "write the host's DNS name or IP address, e.g. `address: node1`")
        } else if address.filter({ $0 == ":" }).count == 1 {
            problem = ("contains one `:`; a port does not belong in the address",
                       "write the SSH port under `ssh:`, e.g. `ssh: {port: 2222}`")
        } else if let bad = address.first(where: { !CharacterPattern.hostAddress.matches(String($0)) }) {
            problem = ("contains `\(bad)`, which no host name or IP address has",
                       "write the host's DNS name or IP address, e.g. `address: node1` or `address: 10.0.0.11`")
        } else {
            problem = nil
        }
        if let problem {
            reader.report("`\(path)` \"\(YAMLNodeReader.truncated(address))\" \(problem.what)", at: node, fix: problem.fix)
            return nil
        }
        return address
    }

    /// SSH settings: `base` with what `node` sets.
    private func ssh(_ node: Node, at path: YAMLPath, base: SSHSettings) -> SSHSettings {
        guard let mapping = reader.mapping(node, at: path, allowedKeys: Self.sshKeys,
                                           example: "ssh: {port: 22, user: root}") else { return base }
        var settings = base
        if let port = mapping.int("port", in: 1...65535, example: "port: 22") { settings.port = port }
        if let user = mapping.string("user", example: "user: root") { settings.user = user }
        if let identity = mapping.string("identity", example: "identity: ~/.ssh/id_ed25519") { settings.identity = identity }
        if let knownHosts = mapping.string("known_hosts", example: "known_hosts: ~/.ssh/known_hosts") {
            settings.knownHosts = knownHosts
        }
        return settings
    }
}
