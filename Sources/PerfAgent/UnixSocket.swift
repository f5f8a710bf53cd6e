import CAgentSystem
import Glibc
import PerfCore
import SystemPackage

/// A Unix-domain socket path, checked to fit `sockaddr_un`.
struct UnixSocketAddress: Sendable {
    /// Longest path `sun_path` holds, leaving room for its terminating zero (107 bytes on Linux).
    static let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    let path: String

    init(_ path: String) throws(UserError) {
        let length = path.utf8.count
        guard length <= Self.capacity else {
            throw UserError(
                "the socket path \(path) is \(length) bytes, more than the \(Self.capacity) a Unix socket path may have",
                fix: "pick a shorter --root")
        }
        self.path = path
    }

    fileprivate func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8) }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}

/// Unix stream sockets: listening, accepting, connecting. Every descriptor is close-on-exec.
enum UnixSocket {
    /// A socket listening at `address`, mode 0600: bound under umask 0177, so it is
    /// never open to others, then chmod'ed in case the file system ignored the umask.
    static func listen(at address: UnixSocketAddress) throws(UserError) -> FileDescriptor {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("cannot create a socket", address) }
        let previousMask = umask(0o177)
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        umask(previousMask)
        guard bound == 0, chmod(address.path, 0o600) == 0, Glibc.listen(fd, 64) == 0 else {
            let error = failure("cannot listen on \(address.path)", address)
            close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// The next connection to `listener`; nil when accept failed (errno says why).
    static func accept(_ listener: FileDescriptor) -> FileDescriptor? {
        let fd = perf_accept_cloexec(listener.rawValue)
        return fd >= 0 ? FileDescriptor(rawValue: fd) : nil
    }

    /// A connection to the socket at `address`, or why there is none
    /// (`.noSuchFileOrDirectory`, `.connectionRefused`: nobody listens).
    static func connect(to address: UnixSocketAddress) -> Result<FileDescriptor, Errno> {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Errno(rawValue: errno)) }
        let connected = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard connected == 0 else {
            let cause = Errno(rawValue: errno)
            close(fd)
            return .failure(cause)
        }
        return .success(FileDescriptor(rawValue: fd))
    }

    private static func failure(_ what: String, _ address: UnixSocketAddress) -> UserError {
        UserError(
            "\(what): \(Errno(rawValue: errno))",
            fix: "check that \(FilePaths.directory(of: address.path)) is a local directory you can write")
    }
}
