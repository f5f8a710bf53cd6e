import CLibSSH2
import Glibc
import PerfCore

/// The libssh2 session and its socket. Only the session thread (`SessionLoop`) touches it;
/// every libssh2 call is non-blocking and waits for the socket with `poll`.
final class SessionCore {
    let endpoint: Endpoint
    /// How long one wait for the peer may last once connected (a stalled transfer fails after it).
    let stallTimeout: Duration
    private(set) var session: OpaquePointer?
    private(set) var socket: Int32 = -1
    var authenticated = false
    var channels: [ChannelPump] = []
    /// The channel whose packet libssh2 sent only in part: libssh2 refuses other
    /// packets (LIBSSH2_ERROR_BAD_USE) until that one is finished.
    var outboundOwner: ObjectIdentifier?
    private(set) var finished = false

    init(endpoint: Endpoint, stallTimeout: Duration) {
        self.endpoint = endpoint
        self.stallTimeout = stallTimeout
    }

    /// Opens the socket and creates the (non-blocking) session, before the handshake.
    func open(timeout: Duration) throws(UserError) {
        _ = LibSSH2.initialised
        socket = try TCPConnector.connect(host: endpoint.host, port: endpoint.port, timeout: timeout)
        guard let session = perf_ssh2_session_init() else {
            throw UserError("libssh2 could not create a session", at: endpoint.location)
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)
    }

    /// The live session, or an error saying the connection is closed.
    func requireSession() throws(UserError) -> OpaquePointer {
        guard let session, !finished else {
            throw UserError("the connection to \(endpoint) is closed", at: endpoint.location)
        }
        return session
    }

    /// Runs a libssh2 call until it stops saying EAGAIN, waiting on the socket in between.
    func retry(_ what: String, until deadline: ContinuousClock.Instant? = nil, _ call: () -> Int32) throws(UserError) -> Int32 {
        while true {
            let rc = call()
            if rc != LibSSH2.eagain { return rc }
            try waitForSocket(what, until: deadline)
        }
    }

    /// Like `retry` for calls that return a pointer (NULL with EAGAIN means "again").
    func retryPointer(_ what: String, until deadline: ContinuousClock.Instant? = nil, _ call: () -> OpaquePointer?) throws(UserError) -> OpaquePointer? {
        while true {
            if let pointer = call() { return pointer }
            guard let session, perf_ssh2_last_errno(session) == LibSSH2.eagain else { return nil }
            try waitForSocket(what, until: deadline)
        }
    }

    /// Waits until the socket is ready in the directions libssh2 was blocked on.
    func waitForSocket(_ what: String, until deadline: ContinuousClock.Instant?) throws(UserError) {
        let limit = deadline ?? ContinuousClock.now.advanced(by: stallTimeout)
        var pfd = pollfd(fd: socket, events: pollEvents(), revents: 0)
        while true {
            let left = ContinuousClock.now.duration(to: limit)
            guard left > .zero else {
                throw UserError("\(endpoint) did not answer while \(what)", at: endpoint.location,
                                fix: "check that the host is up and the network path to it works")
            }
            let ready = poll(&pfd, 1, Int32(min(max(1, left.milliseconds), 1000)))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw UserError("waiting for \(endpoint) failed: \(String(cString: strerror(errno)))", at: endpoint.location)
            }
        }
    }

    /// The poll events for the directions libssh2 last blocked on (always reading).
    func pollEvents() -> Int16 {
        guard let session else { return Int16(POLLIN) }
        let directions = libssh2_session_block_directions(session)
        var events = Int16(POLLIN)
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        return events
    }

    /// A `UserError` for a failed libssh2 call, with libssh2's own message.
    func failure(_ what: String, fix: String? = nil) -> UserError {
        UserError("\(what) on \(endpoint) failed: \(LibSSH2.lastError(session))", at: endpoint.location, fix: fix)
    }

    /// Steps every open channel once; true when any of them moved.
    func pumpChannels() -> Bool {
        var progressed = false
        for channel in channels where channel.step(self) { progressed = true }
        channels.removeAll { $0.isDone }
        return progressed
    }

    /// True when libssh2 already holds data for a channel, so polling the socket would wait for nothing.
    func channelsHaveQueuedData() -> Bool {
        channels.contains { $0.hasQueuedData }
    }

    /// Sends a keepalive when one is due; returns the seconds until the next one.
    func keepalive() -> Int32 {
        guard authenticated, let session else { return 3600 }
        var next: Int32 = 0
        // Errors here (EAGAIN, BAD_USE while a packet is half sent) only delay the keepalive.
        _ = libssh2_keepalive_send(session, &next)
        return max(next, 1)
    }

    /// Ends every channel, says goodbye to the server, and frees the session and socket.
    func shutdown() {
        guard !finished else { return }
        finished = true
        let closed = UserError("the connection to \(endpoint) was closed", at: endpoint.location)
        if let session {
            libssh2_session_set_timeout(session, 2000)
            libssh2_session_set_blocking(session, 1)
            for channel in channels { channel.abandon(closed, session: session) }
            channels.removeAll()
            _ = perf_ssh2_session_disconnect(session, "perfctl closes the connection")
            libssh2_session_free(session)
            self.session = nil
        }
        for channel in channels { channel.abandon(closed, session: nil) }
        channels.removeAll()
        if socket >= 0 { close(socket) }
        socket = -1
    }
}
