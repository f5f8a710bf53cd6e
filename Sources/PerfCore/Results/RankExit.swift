/// How one rank ended, as its node's agent saw it.
public struct RankExit: Sendable, Equatable, Codable {
    public var rank: Int
    public var pid: Int32?
    /// Exit code when the process exited by itself.
    public var exitCode: Int32?
    /// Signal number when a signal ended it.
    public var signal: Int32?
    /// Why it never ran (entry not found, spawn failure); the process did not start.
    public var launchError: String?
    /// Why the agent stopped it (round timeout, another rank failed, cancel), if it did.
    public var stopReason: String?
    /// Wall-clock seconds from launch to exit.
    public var durationSeconds: Double

    public init(
        rank: Int, pid: Int32? = nil, exitCode: Int32? = nil, signal: Int32? = nil, launchError: String? = nil,
        stopReason: String? = nil, durationSeconds: Double = 0
    ) {
        self.rank = rank
        self.pid = pid
        self.exitCode = exitCode
        self.signal = signal
        self.launchError = launchError
        self.stopReason = stopReason
        self.durationSeconds = durationSeconds
    }

    /// Exited by itself with status 0.
    public var succeeded: Bool { exitCode == 0 && launchError == nil && stopReason == nil }

    /// One phrase for people: "exited 0", "killed by SIGTERM (round timeout after 120 s)".
    public var summary: String {
        var text: String
        if let launchError {
            text = "did not start: \(launchError)"
        } else if let exitCode {
            text = "exited with status \(exitCode)"
        } else if let signal {
            text = "killed by \(Self.signalName(signal))"
        } else {
            text = "ended in an unknown way"
        }
        if let stopReason { text += " (stopped: \(stopReason))" }
        return text
    }

    /// `SIGTERM` for 15 and so on; `signal N` for the rest.
    public static func signalName(_ number: Int32) -> String {
        let names: [Int32: String] = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
            9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
        ]
        return names[number] ?? "signal \(number)"
    }
}
