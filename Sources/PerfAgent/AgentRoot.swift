import Foundation
import Glibc
import PerfCore
import SystemPackage

/// The agent's root directory and the daemon's files in it. Whoever can write
/// the root can reach the daemon's socket and run programs as its user, so the
/// daemon and `dial` accept only a root of their own user that nobody else may write.
public struct AgentRoot: Sendable {
    /// Absolute path of the root.
    public let path: String

    /// `path` with `~` expanded, made absolute against the working directory.
    public init(_ path: String) {
        let expanded = FilePaths.expandingHome(path)
        self.path = FilePaths.resolve(expanded, against: FileManager.default.currentDirectoryPath)
    }

    /// This host's daemon files: `<root>/hosts/<hostname>/`. Hosts that share the root
    /// (an NFS home, or test hosts on one machine) each keep their own daemon.
    public var hostDirectory: String { FilePaths.join(path, "hosts/" + Self.hostName) }
    /// The daemon's listening socket.
    var socketPath: String { FilePaths.join(hostDirectory, "agent.sock") }
    /// Held locked by the running daemon: one daemon per root and host.
    var lockPath: String { FilePaths.join(hostDirectory, "agent.lock") }
    /// The running daemon's pid.
    var pidPath: String { FilePaths.join(hostDirectory, "agent.pid") }
    /// The daemon's own log when `dial` started it.
    var logPath: String { FilePaths.join(hostDirectory, "agent.log") }

    /// This host's name as a single path component.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
        let safe = name.map { $0 == "/" || $0 == "\0" ? "_" : $0 }
        return safe.isEmpty || name == "." || name == ".." ? "localhost" : String(safe)
    }

    /// The socket's address; throws when its path is too long for a Unix socket.
    func socketAddress() throws(UserError) -> UnixSocketAddress {
        try UnixSocketAddress(socketPath)
    }

    /// Creates the root and this host's directory in it with mode 0700 when missing;
    /// refuses a root that another user owns or that its group or others may write.
    func prepare() throws(UserError) {
        try prepareRoot()
        for directory in [FilePaths.join(path, "hosts"), hostDirectory] where mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw UserError(
                "cannot create \(directory): \(Errno(rawValue: errno))", fix: "check the permissions of the agent root \(path)")
        }
    }

    private func prepareRoot() throws(UserError) {
        try Directories.create(FilePaths.directory(of: path))
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw UserError(
                "cannot create the agent root \(path): \(Errno(rawValue: errno))",
                fix: "pick a --root in a directory you can write")
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw UserError("the agent root \(path) is not a directory", fix: "pick another --root")
        }
        guard info.st_uid == geteuid() else {
            throw UserError(
                "the agent root \(path) belongs to uid \(info.st_uid), not to this user (uid \(geteuid()))",
                fix: "pick a --root of your own (the default is ~/.perf-agent), or chown it to yourself")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw UserError(
                "the agent root \(path) is writable by its group or others (mode \(String(info.st_mode & 0o7777, radix: 8)))",
                fix: "chmod go-w \(path), or pick another --root")
        }
    }

    /// The pid `agent.pid` names, if any.
    public func recordedPID() -> Int32? {
        (try? String(contentsOfFile: pidPath, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
