import PerfCore

/// Where one host's agent lives and how perfctl reaches it: local hosts run the
/// perf-agent beside perfctl, remote hosts the one `perfctl agent install` put
/// under the host's agent root.
public struct AgentEndpoint: Sendable {
    public let host: HostConfig
    /// The host's agent root as written in cluster.yaml; `~` expands on the host.
    public let root: String
    /// The perf-agent beside this perfctl.
    public let localAgent: String

    public init(host: HostConfig, root: String, localAgent: String) {
        self.host = host
        self.root = root
        self.localAgent = localAgent
    }

    /// Every host of the cluster file, in node-rank order.
    public static func all(in cluster: ClusterConfig, localAgent: String) -> [AgentEndpoint] {
        cluster.hosts.map { AgentEndpoint(host: $0, root: cluster.agentRoot(of: $0), localAgent: localAgent) }
    }

    /// The agent this host runs.
    public var agentPath: String { host.isLocal ? localAgent : Self.installedPath(root: root) }

    /// Where `perfctl agent install` puts the agent under an agent root.
    static func installedPath(root: String) -> String { FilePaths.join(root, "bin/perf-agent") }

    var location: String { "host \(host.name)" }
}

/// `perf-agent dial --no-start` found no daemon on the host.
struct AgentNotRunning: Error {}

/// How `perf-agent dial` says there is no daemon and it was told not to start one.
enum DialExit {
    static let noDaemon: Int32 = 3
    /// The shell's "command not found".
    static let notFound: Int32 = 127
}
