import PerfCore
/// What to do with a host whose key is not in the known_hosts file.
public enum HostKeyPolicy: Sendable, Equatable {
    /// Refuse unknown and changed keys (the default, like OpenSSH's `StrictHostKeyChecking=yes`).
    case strict
    /// Add unknown keys to the file and go on; still refuse changed keys
    /// (like OpenSSH's `StrictHostKeyChecking=accept-new`).
    case acceptNew
}

/// Where the known host keys are and how strictly to check them.
public struct HostKeyChecking: Sendable, Equatable {
    /// The OpenSSH known_hosts file; plain, hashed (`|1|…`) and `[host]:port` entries work.
    public var knownHostsPath: String
    /// Strict, or accept (and record) keys of hosts not in the file yet.
    public var policy: HostKeyPolicy

    /// `knownHostsPath` defaults to `~/.ssh/known_hosts`.
    public init(knownHostsPath: String? = nil, policy: HostKeyPolicy = .strict) {
        self.knownHostsPath = FilePaths.expandingHome(knownHostsPath ?? "~/.ssh/known_hosts")
        self.policy = policy
    }
}

/// Which keys to log in with, in this order: the ssh-agent, `identityFiles`, then the
/// default keys `id_ed25519` and `id_ecdsa` in `defaultKeyDirectory`.
public struct SSHAuthentication: Sendable, Equatable {
    /// The default name of the environment variable that holds a key's passphrase.
    public static let passphraseVariableName = "PERFCTL_SSH_PASSPHRASE"

    /// Private key files given by the user (cluster file or command line).
    public var identityFiles: [String]
    /// Ask the ssh-agent at `SSH_AUTH_SOCK` first, when that variable is set.
    public var useAgent: Bool
    /// Where the default keys are (`~/.ssh`); `nil` tries no default keys.
    public var defaultKeyDirectory: String?
    /// The environment variable read for passphrases; passphrases never come from config files.
    public var passphraseVariable: String

    public init(
        identityFiles: [String] = [],
        useAgent: Bool = true,
        defaultKeyDirectory: String? = FilePaths.home + "/.ssh",
        passphraseVariable: String = SSHAuthentication.passphraseVariableName
    ) {
        self.identityFiles = identityFiles
        self.useAgent = useAgent
        self.defaultKeyDirectory = defaultKeyDirectory
        self.passphraseVariable = passphraseVariable
    }
}

/// How a remote command ended.
public struct SSHExitStatus: Sendable, Equatable, CustomStringConvertible {
    /// The exit code; `nil` when the command was killed by a signal.
    public var code: Int32?
    /// The signal name without `SIG` (`TERM`, `KILL`) when a signal ended the command.
    public var signal: String?

    public init(code: Int32?, signal: String?) {
        self.code = code
        self.signal = signal
    }

    public var description: String {
        if let signal { return "killed by SIG\(signal)" }
        return "exit \(code.map(String.init) ?? "?")"
    }
}

/// A piece of a remote command's output, as it arrived.
public enum SSHOutput: Sendable, Equatable {
    /// Bytes the command wrote to its standard output.
    case stdout([UInt8])
    /// Bytes the command wrote to its standard error.
    case stderr([UInt8])
}

/// Everything a finished command printed, and how it ended.
public struct SSHCommandResult: Sendable, Equatable {
    /// All of standard output.
    public var stdout: [UInt8]
    /// All of standard error.
    public var stderr: [UInt8]
    /// How the command ended.
    public var status: SSHExitStatus
}


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
