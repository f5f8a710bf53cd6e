import Foundation
import PerfCore

/// The agent protocol's version. Controller and agent refuse each other when it differs.
public enum WireProtocol {
    public static let version = 1
    /// Largest frame either side accepts; a bigger one is a protocol error.
    public static let maximumFrameBytes = 16 << 20
    /// Largest log chunk an agent sends in one message.
    public static let maximumChunkBytes = 256 << 10
}

/// Sent by the controller when it connects.
public struct ControllerHello: Sendable, Equatable, Codable {
    public var protocolVersion: Int
    public var controllerVersion: String
    /// Controller wall clock, nanoseconds since 1970, when sent.
    public var sentAtNanoseconds: Int64
    /// Seconds between the agent's `heartbeat`s on this session; nil for none.
    public var heartbeatSeconds: Double?

    public init(
        protocolVersion: Int = WireProtocol.version, controllerVersion: String, sentAtNanoseconds: Int64,
        heartbeatSeconds: Double? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.controllerVersion = controllerVersion
        self.sentAtNanoseconds = sentAtNanoseconds
        self.heartbeatSeconds = heartbeatSeconds
    }
}

/// The agent is alive: sent every `heartbeatSeconds` after hello, rounds or not.
public struct Heartbeat: Sendable, Equatable, Codable {
    /// Agent wall clock, nanoseconds since 1970, when sent.
    public var agentClockNanoseconds: Int64

    public init(agentClockNanoseconds: Int64) { self.agentClockNanoseconds = agentClockNanoseconds }
}

/// The agent's answer to `ControllerHello`.
public struct AgentHello: Sendable, Equatable, Codable {
    public var protocolVersion: Int
    public var agentVersion: String
    public var hostname: String
    public var pid: Int32
    /// Agent wall clock, nanoseconds since 1970, when sent.
    public var agentClockNanoseconds: Int64
    /// Runtimes this agent can start ranks with.
    public var runtimes: [RuntimeKind]

    public init(
        protocolVersion: Int = WireProtocol.version, agentVersion: String, hostname: String, pid: Int32,
        agentClockNanoseconds: Int64, runtimes: [RuntimeKind]
    ) {
        self.protocolVersion = protocolVersion
        self.agentVersion = agentVersion
        self.hostname = hostname
        self.pid = pid
        self.agentClockNanoseconds = agentClockNanoseconds
        self.runtimes = runtimes
    }
}

/// Identifies one round of one run on every node.
public struct RoundKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var runID: String
    public var caseName: String
    public var round: Int

    public init(runID: String, caseName: String, round: Int) {
        self.runID = runID
        self.caseName = caseName
        self.round = round
    }

    public var description: String { "\(runID)/\(caseName)/round\(round)" }
}

/// Start this node's ranks for a round.
public struct StartRound: Sendable, Equatable, Codable {
    public var key: RoundKey
    public var nodeRank: Int
    public var runtime: RuntimeKind
    public var ranks: [RankLaunch]
    /// Seconds until the agent stops every rank of the round.
    public var timeoutSeconds: Double
    /// Seconds between SIGTERM and SIGKILL when ranks are stopped.
    public var killGraceSeconds: Double

    public init(
        key: RoundKey, nodeRank: Int, runtime: RuntimeKind, ranks: [RankLaunch], timeoutSeconds: Double,
        killGraceSeconds: Double
    ) {
        self.key = key
        self.nodeRank = nodeRank
        self.runtime = runtime
        self.ranks = ranks
        self.timeoutSeconds = timeoutSeconds
        self.killGraceSeconds = killGraceSeconds
    }
}

/// Stop every rank of a round (TERM, grace, KILL).
public struct CancelRound: Sendable, Equatable, Codable {
    public var key: RoundKey
    public var reason: String

    public init(key: RoundKey, reason: String) {
        self.key = key
        self.reason = reason
    }
}

/// A rank of a round was launched (or could not be).
public struct RankStarted: Sendable, Equatable, Codable {
    public var key: RoundKey
    public var rank: Int
    public var pid: Int32

    public init(key: RoundKey, rank: Int, pid: Int32) {
        self.key = key
        self.rank = rank
        self.pid = pid
    }
}

/// A rank ended; the round goes on until every rank has.
public struct RankEnded: Sendable, Equatable, Codable {
    public var key: RoundKey
    public var exit: RankExit

    public init(key: RoundKey, exit: RankExit) {
        self.key = key
        self.exit = exit
    }
}

/// Bytes of a file in the node's round directory, at an offset: the controller
/// writes them at that offset, so a resent chunk never duplicates data.
public struct LogChunk: Sendable, Equatable, Codable {
    public var key: RoundKey
    /// File name inside the node's round directory (`rank0.out.log`, `agent.log`).
    public var file: String
    public var offset: Int64
    public var data: Data

    public init(key: RoundKey, file: String, offset: Int64, data: Data) {
        self.key = key
        self.file = file
        self.offset = offset
        self.data = data
    }
}

/// Every rank of the round has ended and every log byte has been sent.
public struct RoundFinished: Sendable, Equatable, Codable {
    public var key: RoundKey
    public var exits: [RankExit]
    /// The node's round directory on the agent's host.
    public var nodeDirectory: String
    /// Files in the round directory with their final sizes.
    public var files: [String: Int64]
    /// Set when the run was cancelled on this node (`perfctl cancel`), with the reason.
    public var runCancelled: String?

    public init(
        key: RoundKey, exits: [RankExit], nodeDirectory: String, files: [String: Int64], runCancelled: String? = nil
    ) {
        self.key = key
        self.exits = exits
        self.nodeDirectory = nodeDirectory
        self.files = files
        self.runCancelled = runCancelled
    }
}

/// A request the agent could not carry out.
public struct AgentFailure: Error, Sendable, Equatable, Codable {
    public var key: RoundKey?
    public var message: String
    public var fix: String?

    public init(key: RoundKey? = nil, message: String, fix: String? = nil) {
        self.key = key
        self.message = message
        self.fix = fix
    }
}

/// Messages from controller to agent.
public enum ControllerMessage: Sendable, Equatable {
    case hello(ControllerHello)
    case startRound(StartRound)
    case cancelRound(CancelRound)
    /// Check the node before a run; answered by `preflightReport`.
    case preflight(PreflightRequest)
    /// Ask for the daemon's state; answered by `status`.
    case status
    /// Stop the daemon; answered by `shuttingDown` or a failure.
    case shutdown(ShutdownRequest)
    /// Stop every round of a run and refuse its later rounds; answered by `runCancelled`.
    case cancelRun(CancelRun)
    /// Read the agent's wall clock; answered by `clockReply`.
    case clockProbe(ClockProbeRequest)
    /// The controller is done; the agent finishes what runs and closes the session.
    case goodbye
}

/// Messages from agent to controller.
public enum AgentMessage: Sendable, Equatable {
    case hello(AgentHello)
    case rankStarted(RankStarted)
    case rankEnded(RankEnded)
    case logChunk(LogChunk)
    case roundFinished(RoundFinished)
    case preflightReport(PreflightReport)
    case status(AgentStatus)
    case shuttingDown(ShutdownReport)
    case runCancelled(RunCancelled)
    case clockReply(ClockReply)
    case heartbeat(Heartbeat)
    case failure(AgentFailure)
}

/// Checks a node before a run: the runtime, the devices, the entry program.
public struct PreflightRequest: Sendable, Equatable, Codable {
    public var runtime: RuntimeKind
    /// Ranks this node will run; with `deviceQuery`, at least this many devices must answer.
    public var ranksOnNode: Int
    /// A command whose non-empty output lines are the node's devices
    /// (vendor.yaml `device_query`); nil for vendors without one (CPU).
    public var deviceQuery: [String]?
    /// The node's first rank as planned: its entry program is looked up with its PATH.
    public var firstRank: RankLaunch?

    public init(runtime: RuntimeKind, ranksOnNode: Int, deviceQuery: [String]?, firstRank: RankLaunch?) {
        self.runtime = runtime
        self.ranksOnNode = ranksOnNode
        self.deviceQuery = deviceQuery
        self.firstRank = firstRank
    }
}

/// One preflight check's outcome on a node.
public struct PreflightCheck: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case passed, warning, failed
    }

    /// What was checked: `runtime`, `devices`, `entry`, `root`.
    public var name: String
    public var outcome: Outcome
    public var detail: String
    public var fix: String?

    public init(name: String, outcome: Outcome, detail: String, fix: String? = nil) {
        self.name = name
        self.outcome = outcome
        self.detail = detail
        self.fix = fix
    }
}

/// The agent's answer to `PreflightRequest`.
public struct PreflightReport: Sendable, Equatable, Codable {
    public var checks: [PreflightCheck]

    public init(checks: [PreflightCheck]) { self.checks = checks }

    public var passed: Bool { !checks.contains { $0.outcome == .failed } }
}

/// A round the agent is running, as `status` reports it.
public struct RunningRound: Sendable, Equatable, Codable {
    public var key: RoundKey
    public var nodeRank: Int
    public var ranksAlive: Int
    public var startedAtNanoseconds: Int64

    public init(key: RoundKey, nodeRank: Int, ranksAlive: Int, startedAtNanoseconds: Int64) {
        self.key = key
        self.nodeRank = nodeRank
        self.ranksAlive = ranksAlive
        self.startedAtNanoseconds = startedAtNanoseconds
    }
}

/// The agent daemon's state, the answer to `status`.
public struct AgentStatus: Sendable, Equatable, Codable {
    public var agentVersion: String
    public var protocolVersion: Int
    public var pid: Int32
    /// The daemon's own executable and its SHA-256 (hex), to tell builds apart.
    public var executable: String
    public var executableSHA256: String
    public var root: String
    public var startedAtNanoseconds: Int64
    /// Controller sessions connected now, this one included.
    public var sessions: Int
    public var rounds: [RunningRound]

    public init(
        agentVersion: String, protocolVersion: Int = WireProtocol.version, pid: Int32, executable: String,
        executableSHA256: String, root: String, startedAtNanoseconds: Int64, sessions: Int, rounds: [RunningRound]
    ) {
        self.agentVersion = agentVersion
        self.protocolVersion = protocolVersion
        self.pid = pid
        self.executable = executable
        self.executableSHA256 = executableSHA256
        self.root = root
        self.startedAtNanoseconds = startedAtNanoseconds
        self.sessions = sessions
        self.rounds = rounds
    }
}

/// Stop the agent daemon. With running rounds it refuses unless `cancelRunning`,
/// which stops their ranks first (TERM, grace, KILL).
public struct ShutdownRequest: Sendable, Equatable, Codable {
    public var cancelRunning: Bool

    public init(cancelRunning: Bool) { self.cancelRunning = cancelRunning }
}

/// The daemon is exiting; these rounds were stopped on the way.
public struct ShutdownReport: Sendable, Equatable, Codable {
    public var stoppedRounds: [RoundKey]

    public init(stoppedRounds: [RoundKey]) { self.stoppedRounds = stoppedRounds }
}

/// Cancel a whole run on this node (`perfctl cancel`): its running rounds' ranks are
/// stopped (TERM, grace, KILL) and its later rounds refused.
public struct CancelRun: Sendable, Equatable, Codable {
    public var runID: String
    public var reason: String

    public init(runID: String, reason: String) {
        self.runID = runID
        self.reason = reason
    }
}

/// What cancelling a run stopped on this node, once those rounds have ended.
public struct RunCancelled: Sendable, Equatable, Codable {
    public var runID: String
    public var stoppedRounds: [RoundKey]
    /// Ranks that were still running when the cancel arrived.
    public var ranksStopped: Int

    public init(runID: String, stoppedRounds: [RoundKey], ranksStopped: Int) {
        self.runID = runID
        self.stoppedRounds = stoppedRounds
        self.ranksStopped = ranksStopped
    }
}
