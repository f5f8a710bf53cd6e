/// A configuration file as it was when the run started.
public struct ConfigFileRecord: Sendable, Equatable, Codable {
    public var path: String
    /// SHA-256 of the file's bytes, hex.
    public var sha256: String

    public init(path: String, sha256: String) {
        self.path = path
        self.sha256 = sha256
    }
}

/// What an agent said about itself when the controller connected.
public struct HostRecord: Sendable, Equatable, Codable {
    public var name: String
    public var address: String
    public var nodeRank: Int
    public var hostname: String?
    public var agentVersion: String?
    public var protocolVersion: Int?
    /// The host's clock minus the controller's, in milliseconds, measured at hello
    /// (best of several probes); subtract it from the host's times to get the controller's.
    public var clockOffsetMs: Double?
    /// How far the true offset can be from `clockOffsetMs`: half the best probe's round trip.
    public var clockUncertaintyMs: Double?
    /// Times the controller reached the host again after losing its agent during the run.
    public var reconnects: Int?

    public init(
        name: String, address: String, nodeRank: Int, hostname: String? = nil, agentVersion: String? = nil,
        protocolVersion: Int? = nil, clockOffsetMs: Double? = nil, clockUncertaintyMs: Double? = nil
    ) {
        self.name = name
        self.address = address
        self.nodeRank = nodeRank
        self.hostname = hostname
        self.agentVersion = agentVersion
        self.protocolVersion = protocolVersion
        self.clockOffsetMs = clockOffsetMs
        self.clockUncertaintyMs = clockUncertaintyMs
    }
}

/// State of a run as `run.json` records it.
public enum RunStatus: String, Sendable, Equatable, Codable {
    /// Still going (or the controller died: see `endedAt`).
    case running
    /// Every round passed.
    case passed
    /// Some rounds failed; the others' results stand.
    case failed
    /// The run could not go on (a node unreachable, cancelled).
    case aborted
}

/// `run.json`: what ran, from which configuration, with which versions, and how it ended.
public struct RunRecord: Sendable, Equatable, Codable {
    public var runID: String
    public var status: RunStatus
    public var startedAt: String
    public var endedAt: String?
    public var perfctlVersion: String
    public var protocolVersion: Int
    public var commandLine: [String]
    public var cluster: ConfigFileRecord
    public var caseFile: ConfigFileRecord
    public var vendor: ConfigFileRecord
    public var hosts: [HostRecord]
    public var plan: RunPlan
    /// Why the run was aborted, when it was.
    public var abortReason: String?

    public init(
        runID: String, status: RunStatus, startedAt: String, endedAt: String? = nil, perfctlVersion: String,
        protocolVersion: Int, commandLine: [String], cluster: ConfigFileRecord, caseFile: ConfigFileRecord,
        vendor: ConfigFileRecord, hosts: [HostRecord], plan: RunPlan, abortReason: String? = nil
    ) {
        self.runID = runID
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.perfctlVersion = perfctlVersion
        self.protocolVersion = protocolVersion
        self.commandLine = commandLine
        self.cluster = cluster
        self.caseFile = caseFile
        self.vendor = vendor
        self.hosts = hosts
        self.plan = plan
        self.abortReason = abortReason
    }
}
