/// One rank as the agent launches it: argv, working directory and environment.
///
/// `PERF_ROUND` and `PERF_LOG_DIR` are not in `environment`: the agent adds
/// them for each round, because only it knows its node's run directory.
public struct RankLaunch: Sendable, Equatable, Codable {
    /// Global rank (RANK).
    public var rank: Int
    /// Rank within the node (LOCAL_RANK).
    public var localRank: Int
    public var argv: [String]
    public var workingDirectory: String
    /// Planned variables; values may hold `${VAR}` references that expand on the node.
    public var environment: [String: String]

    public init(rank: Int, localRank: Int, argv: [String], workingDirectory: String, environment: [String: String]) {
        self.rank = rank
        self.localRank = localRank
        self.argv = argv
        self.workingDirectory = workingDirectory
        self.environment = environment
    }
}

/// What one node runs: its host and its ranks.
public struct NodePlan: Sendable, Equatable, Codable {
    public var nodeRank: Int
    public var hostName: String
    public var address: String
    /// Reached through a local pipe rather than SSH.
    public var isLocal: Bool
    public var ranks: [RankLaunch]

    public init(nodeRank: Int, hostName: String, address: String, isLocal: Bool, ranks: [RankLaunch]) {
        self.nodeRank = nodeRank
        self.hostName = hostName
        self.address = address
        self.isLocal = isLocal
        self.ranks = ranks
    }

    /// Folder of this node inside a round's results: `<host>_noderank<n>` (FlagPerf's layout).
    public var directoryName: String { "\(hostName)_noderank\(nodeRank)" }
}

/// Everything a run needs: the resolved case settings and every node's ranks.
public struct RunPlan: Sendable, Equatable, Codable {
    public var runID: String
    public var caseName: String
    public var preset: String?
    public var vendor: String
    public var runtime: RuntimeKind
    public var image: String?
    public var framework: String
    public var rounds: Int
    public var roundTimeout: Double
    public var nnodes: Int
    public var nprocPerNode: Int
    public var dtype: String?
    /// Peak FLOP/s of one rank's device for `dtype`, when the vendor states it.
    public var peakFlopsPerRank: Double?
    public var metrics: [PlannedMetric]
    public var nodes: [NodePlan]

    public var worldSize: Int { nnodes * nprocPerNode }

    public init(
        runID: String, caseName: String, preset: String?, vendor: String, runtime: RuntimeKind,
        image: String?, framework: String, rounds: Int, roundTimeout: Double, nnodes: Int,
        nprocPerNode: Int, dtype: String?, peakFlopsPerRank: Double?, metrics: [PlannedMetric],
        nodes: [NodePlan]
    ) {
        self.runID = runID
        self.caseName = caseName
        self.preset = preset
        self.vendor = vendor
        self.runtime = runtime
        self.image = image
        self.framework = framework
        self.rounds = rounds
        self.roundTimeout = roundTimeout
        self.nnodes = nnodes
        self.nprocPerNode = nprocPerNode
        self.dtype = dtype
        self.peakFlopsPerRank = peakFlopsPerRank
        self.metrics = metrics
        self.nodes = nodes
    }
}

/// A case metric as recorded in a plan and in results (Codable twin of `MetricSpec`).
public struct PlannedMetric: Sendable, Equatable, Codable {
    public var name: String
    public var higherIsBetter: Bool
    public var primary: Bool
    public var unit: String?

    public init(_ spec: MetricSpec) {
        name = spec.name
        higherIsBetter = spec.higherIsBetter
        primary = spec.primary
        unit = spec.unit
    }
}
