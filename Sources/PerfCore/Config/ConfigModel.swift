/// How a cluster is reached and where its results go (`cluster.yaml`).
public struct ClusterConfig: Sendable, Equatable {
    /// Absolute path of the file this was read from.
    public var file: String
    /// Name of the vendor folder under `vendorsDirectory`.
    public var vendor: String
    /// Absolute directory for `results/<run-id>/…` (default: `results` beside the file).
    public var resultsDirectory: String
    /// Absolute directory holding `<case>/case.yaml` folders (default: `cases` beside the file).
    public var casesDirectory: String
    /// Absolute directory holding `<vendor>/vendor.yaml` folders (default: `vendors` beside the file).
    public var vendorsDirectory: String
    /// Port of the rendezvous on the first host (MASTER_PORT).
    public var masterPort: Int
    /// Root of the agent's state and node run directories on every host (`~` allowed).
    public var agentRoot: String
    /// Seconds a node may stay silent (no heartbeat, no message) before it is declared lost.
    public var heartbeatTimeout: Double
    /// Site environment for every rank (e.g. `GLOO_SOCKET_IFNAME`), over the vendor's and
    /// under the case's; `${VAR}` expands on the node at launch.
    public var env: [String: String]
    /// Hosts in node-rank order: the first one is MASTER_ADDR.
    public var hosts: [HostConfig]
    /// Where each setting was written (`vendor`, `hosts[1].address` …), for messages about it.
    public var source: SourceMap

    public init(
        file: String, vendor: String, resultsDirectory: String, casesDirectory: String,
        vendorsDirectory: String, masterPort: Int = 29500, agentRoot: String = "~/.perf-agent",
        heartbeatTimeout: Double = 15, env: [String: String] = [:], hosts: [HostConfig], source: SourceMap = SourceMap()
    ) {
        self.file = file
        self.vendor = vendor
        self.resultsDirectory = resultsDirectory
        self.casesDirectory = casesDirectory
        self.vendorsDirectory = vendorsDirectory
        self.masterPort = masterPort
        self.agentRoot = agentRoot
        self.heartbeatTimeout = heartbeatTimeout
        self.env = env
        self.hosts = hosts
        self.source = source
    }

    /// The directory that holds the cluster file; relative paths in it start here.
    public var directory: String { FilePaths.directory(of: file) }

    /// The agent root on `host`: its own `agent_root`, else the cluster's.
    public func agentRoot(of host: HostConfig) -> String { host.agentRoot ?? agentRoot }
}

/// One node of the cluster.
public struct HostConfig: Sendable, Equatable {
    /// Label used in result directory names (`<name>_noderank<n>`); defaults to the address.
    public var name: String
    /// DNS name or IP address the controller and the other nodes reach this host by.
    public var address: String
    /// How to reach the host over SSH (unused for local hosts).
    public var ssh: SSHSettings
    /// This host's agent root when it differs from the cluster's `agent_root`.
    public var agentRoot: String?

    public init(name: String, address: String, ssh: SSHSettings = SSHSettings(), agentRoot: String? = nil) {
        self.name = name
        self.address = address
        self.ssh = ssh
        self.agentRoot = agentRoot
    }

    /// `localhost`, `127.x.x.x` and `::1` are reached through a local pipe, without SSH.
    public var isLocal: Bool {
        address == "localhost" || address == "::1" || address.hasPrefix("127.")
    }
}

/// SSH connection settings of a host; `nil` fields fall back to SSH's own defaults.
public struct SSHSettings: Sendable, Equatable {
    public var port: Int
    public var user: String?
    public var identity: String?
    public var knownHosts: String?

    public init(port: Int = 22, user: String? = nil, identity: String? = nil, knownHosts: String? = nil) {
        self.port = port
        self.user = user
        self.identity = identity
        self.knownHosts = knownHosts
    }
}

/// What a case runs and how often; a preset overrides any of these.
public struct CaseSettings: Sendable, Equatable {
    /// Program and its arguments, run in the case directory; argv[0] is looked up in PATH.
    public var entry: [String]
    /// Arguments appended to `entry`.
    public var args: [String]
    /// Extra environment for every rank (`${VAR}` expands on the node at launch).
    public var env: [String: String]
    public var nnodes: Int
    public var nprocPerNode: Int
    public var rounds: Int
    /// Seconds a round may take before its ranks are stopped.
    public var roundTimeout: Double
    /// Data type whose vendor peak FLOP/s is passed to ranks as PERF_PEAK_FLOPS.
    public var dtype: String?

    public init(
        entry: [String], args: [String] = [], env: [String: String] = [:], nnodes: Int = 1,
        nprocPerNode: Int = 1, rounds: Int = 1, roundTimeout: Double = 3600, dtype: String? = nil
    ) {
        self.entry = entry
        self.args = args
        self.env = env
        self.nnodes = nnodes
        self.nprocPerNode = nprocPerNode
        self.rounds = rounds
        self.roundTimeout = roundTimeout
        self.dtype = dtype
    }
}

/// Overrides of `CaseSettings` from a preset or the command line; `nil` keeps the value.
public struct CaseOverrides: Sendable, Equatable {
    public var entry: [String]?
    /// Replaces the case's `args`.
    public var args: [String]?
    /// Merged over the case's `env` (these win).
    public var env: [String: String]?
    public var nnodes: Int?
    public var nprocPerNode: Int?
    public var rounds: Int?
    public var roundTimeout: Double?
    public var dtype: String?

    public init(
        entry: [String]? = nil, args: [String]? = nil, env: [String: String]? = nil, nnodes: Int? = nil,
        nprocPerNode: Int? = nil, rounds: Int? = nil, roundTimeout: Double? = nil, dtype: String? = nil
    ) {
        self.entry = entry
        self.args = args
        self.env = env
        self.nnodes = nnodes
        self.nprocPerNode = nprocPerNode
        self.rounds = rounds
        self.roundTimeout = roundTimeout
        self.dtype = dtype
    }

    /// `settings` with every non-nil override applied.
    public func applied(to settings: CaseSettings) -> CaseSettings {
        var result = settings
        if let entry { result.entry = entry }
        if let args { result.args = args }
        if let env { result.env.merge(env) { _, new in new } }
        if let nnodes { result.nnodes = nnodes }
        if let nprocPerNode { result.nprocPerNode = nprocPerNode }
        if let rounds { result.rounds = rounds }
        if let roundTimeout { result.roundTimeout = roundTimeout }
        if let dtype { result.dtype = dtype }
        return result
    }
}

/// A FINISHED value the case reports and how to read it.
public struct MetricSpec: Sendable, Equatable {
    /// Key in the FINISHED event's `value` object.
    public var name: String
    public var higherIsBetter: Bool
    /// Primary metrics head the summary and must be present and finite for a round to pass.
    public var primary: Bool
    public var unit: String?

    public init(name: String, higherIsBetter: Bool, primary: Bool = false, unit: String? = nil) {
        self.name = name
        self.higherIsBetter = higherIsBetter
        self.primary = primary
        self.unit = unit
    }
}

/// A benchmark case (`cases/<name>/case.yaml`).
public struct CaseConfig: Sendable, Equatable {
    /// Folder name of the case.
    public var name: String
    /// Absolute path of the case folder (ranks run here).
    public var directory: String
    /// Absolute path of `case.yaml`.
    public var file: String
    public var description: String?
    public var framework: String
    public var settings: CaseSettings
    /// Preset used when the command line names none.
    public var defaultPreset: String?
    public var presets: [String: CaseOverrides]
    public var metrics: [MetricSpec]
    /// Where each setting was written (`nnodes`, `presets.full.dtype` …), for messages about it.
    public var source: SourceMap

    public init(
        name: String, directory: String, file: String, description: String? = nil, framework: String,
        settings: CaseSettings, defaultPreset: String? = nil, presets: [String: CaseOverrides] = [:],
        metrics: [MetricSpec] = [], source: SourceMap = SourceMap()
    ) {
        self.name = name
        self.directory = directory
        self.file = file
        self.description = description
        self.framework = framework
        self.settings = settings
        self.defaultPreset = defaultPreset
        self.presets = presets
        self.metrics = metrics
        self.source = source
    }
}

/// How ranks are started on a vendor's nodes.
public enum RuntimeKind: String, Sendable, Equatable, CaseIterable, Codable {
    case process, docker, podman
}

/// An accelerator vendor (`vendors/<name>/vendor.yaml`).
public struct VendorConfig: Sendable, Equatable {
    public var name: String
    /// Absolute path of `vendor.yaml`.
    public var file: String
    public var description: String?
    public var runtime: RuntimeKind
    /// Container image for docker/podman runtimes.
    public var image: String?
    /// Variable that selects the node's devices (CUDA_VISIBLE_DEVICES …); `nil` for CPUs.
    public var visibleDevicesEnv: String?
    /// Accelerators per node; `nproc_per_node` may not exceed it.
    public var devicesPerNode: Int?
    /// A command printing one line per device on a node; preflight counts the lines.
    public var deviceQuery: [String]?
    /// Peak FLOP/s of one device (one rank's share) by dtype, e.g. `bf16: 989e12`.
    public var peakFlops: [String: Double]
    /// Environment for every rank (`${VAR}` expands on the node at launch).
    public var env: [String: String]
    /// Where each setting was written (`runtime`, `peak_flops.bf16` …), for messages about it.
    public var source: SourceMap

    public init(
        name: String, file: String, description: String? = nil, runtime: RuntimeKind = .process,
        image: String? = nil, visibleDevicesEnv: String? = nil, devicesPerNode: Int? = nil, deviceQuery: [String]? = nil,
        peakFlops: [String: Double] = [:], env: [String: String] = [:], source: SourceMap = SourceMap()
    ) {
        self.name = name
        self.file = file
        self.description = description
        self.runtime = runtime
        self.image = image
        self.visibleDevicesEnv = visibleDevicesEnv
        self.devicesPerNode = devicesPerNode
        self.deviceQuery = deviceQuery
        self.peakFlops = peakFlops
        self.env = env
        self.source = source
    }
}
