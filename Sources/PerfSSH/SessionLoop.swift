import Foundation
import Glibc
import PerfCore
import Synchronization

/// The one thread that owns a libssh2 session: it runs submitted jobs one at a time,
/// pumps open channels, sends keepalives, and sleeps in `poll` on the session's socket
/// and a wake-up pipe. No other thread ever calls into libssh2 for this session.
final class SessionLoop: @unchecked Sendable {
    // @unchecked: `core` is touched only on `thread`; the inbox is behind a Mutex.
    private let core: SessionCore
    private let inbox = Mutex<Inbox>(Inbox())

    private struct Inbox {
        var jobs: [@Sendable (SessionCore) -> Void] = []
        var closed = false
    }
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(core: SessionCore) throws(UserError) {
        self.core = core
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw UserError("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        let thread = Thread { [self] in run() }
        thread.name = "perfctl-ssh \(core.endpoint)"
        thread.start()
    }

    /// Queues a job for the session thread.
    func submit(_ job: @escaping @Sendable (SessionCore) -> Void) {
        let accepted = inbox.withLock { inbox in
            if !inbox.closed { inbox.jobs.append(job) }
            return !inbox.closed
        }
        guard accepted else {
            // The thread has ended: run the job against a session that is gone, so it fails cleanly.
            job(SessionCore(endpoint: core.endpoint, stallTimeout: core.stallTimeout))
            return
        }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Runs `body` on the session thread and returns its result.
    func perform<T: Sendable>(_ body: @escaping @Sendable (SessionCore) throws(UserError) -> T) async throws(UserError) -> T {
        let result: Result<T, UserError> = await withCheckedContinuation { continuation in
            submit { core in
                continuation.resume(returning: Result { () throws(UserError) -> T in try body(core) })
            }
        }
        return try result.get()
    }

    private func run() {
        // libssh2 may queue a channel's data while another channel is stepped, so a pass
        // that moved nothing is followed by one more when data looks queued. Only one:
        // libssh2_poll_channel_read can report data that no read returns, and trusting it
        // every time spun this loop on EAGAIN (thousands of recv calls per command).
        var passedForQueuedData = false
        while true {
            let jobs = inbox.withLock { inbox in
                defer { inbox.jobs.removeAll() }
                return inbox.jobs
            }
            for job in jobs { job(core) }
            if core.finished { break }
            let progressed = core.pumpChannels()
            let next = core.keepalive()
            if progressed || !inbox.withLock({ $0.jobs.isEmpty }) {
                passedForQueuedData = false
                continue
            }
            if !passedForQueuedData && core.channelsHaveQueuedData() {
                passedForQueuedData = true
                continue
            }
            passedForQueuedData = false
            sleep(seconds: core.channels.isEmpty ? next : min(next, 1))
        }
        let late = inbox.withLock { inbox in
            inbox.closed = true
            return inbox.jobs
        }
        for job in late { job(core) }
        close(wakeRead)
        close(wakeWrite)
    }

    private func sleep(seconds: Int32) {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        if core.socket >= 0 && !core.channels.isEmpty {
            fds.append(pollfd(fd: core.socket, events: core.pollEvents(), revents: 0))
        }
        _ = poll(&fds, nfds_t(fds.count), seconds * 1000)
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }
}
