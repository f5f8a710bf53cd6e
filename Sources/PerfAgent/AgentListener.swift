import Foundation
import Glibc
import Logging
import PerfCore
import Synchronization
import SystemPackage

/// The daemon's listening socket: a dedicated thread accepts connections in a
/// blocking loop and hands each one over as a connected socket.
final class AgentListener: Sendable {
    private let address: UnixSocketAddress
    private let descriptor: FileDescriptor
    private let closed = Atomic<Bool>(false)

    /// Removes a stale socket file at `address` and listens there (mode 0600).
    init(address: UnixSocketAddress) throws(UserError) {
        if unlink(address.path) != 0 && errno != ENOENT {
            throw UserError(
                "cannot remove the stale socket \(address.path): \(Errno(rawValue: errno))",
                fix: "remove it by hand, or pick another --root")
        }
        self.address = address
        descriptor = try UnixSocket.listen(at: address)
    }

    /// Accepts connections on a thread of their own until `close()`.
    func start(logger: Logger, onConnection: @escaping @Sendable (FileDescriptor) -> Void) {
        let thread = Thread { [self] in
            while !closed.load(ordering: .acquiring) {
                if let connection = UnixSocket.accept(descriptor) {
                    onConnection(connection)
                    continue
                }
                let cause = Errno(rawValue: errno)
                guard !closed.load(ordering: .acquiring) else { break }
                switch cause {
                case .interrupted, .connectionAbort:
                    continue
                default:
                    // Out of descriptors or memory: wait for some to come back rather than spin.
                    logger.warning("accept on \(address.path) failed: \(cause)")
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
            try? descriptor.close()
        }
        thread.name = "perf-agent-accept"
        thread.start()
    }

    /// Stops accepting (the accept thread wakes and closes the socket) and removes the socket file.
    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        unlink(address.path)
        shutdown(descriptor.rawValue, Int32(SHUT_RDWR))
    }
}
