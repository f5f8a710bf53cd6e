import Glibc
import PerfCore

/// Opens a TCP connection without blocking past a deadline: a dead host fails in the
/// timeout the user gave, not after the kernel's ~72 s of SYN retries.
enum TCPConnector {
    /// A connected, non-blocking socket to `host:port`, with TCP keepalive on so a
    /// link that dies under a long command is noticed.
    static func connect(host: String, port: Int, timeout: Duration) throws(UserError) -> Int32 {
        let endpoint = Endpoint(host: host, port: port)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw UserError(
                "cannot resolve host name '\(host)': \(String(cString: gai_strerror(status)))",
                at: endpoint.location, fix: "check the host name in the cluster file, or use an IP address")
        }
        defer { freeaddrinfo(list) }
        var lastError = UserError("no address for \(host)", at: endpoint.location)
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let info = current {
            current = info.pointee.ai_next
            do {
                return try attempt(info.pointee, endpoint: endpoint, deadline: deadline, timeout: timeout)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func attempt(
        _ info: addrinfo, endpoint: Endpoint, deadline: ContinuousClock.Instant, timeout: Duration
    ) throws(UserError) -> Int32 {
        let fd = socket(info.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw UserError("cannot create a socket: \(String(cString: strerror(errno)))", at: endpoint.location)
        }
        var connected = false
        defer { if !connected { close(fd) } }
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw failure(errno, endpoint) }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            while true {
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else { throw timedOut(endpoint, timeout) }
                let ready = poll(&pfd, 1, Int32(max(1, left.milliseconds)))
                if ready > 0 { break }
                if ready < 0 && errno != EINTR { throw failure(errno, endpoint) }
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            guard soError == 0 else { throw failure(soError, endpoint) }
        }
        setOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1)
        setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, 30)
        setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, 10)
        setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, 3)
        setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        connected = true
        return fd
    }

    private static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    private static func timedOut(_ endpoint: Endpoint, _ timeout: Duration) -> UserError {
        UserError(
            "no answer from \(endpoint) within \(timeout.secondsText) (connect timed out)",
            at: endpoint.location,
            fix: "check that the host is up and the address is right, and that no firewall drops port \(endpoint.port)")
    }

    private static func failure(_ code: Int32, _ endpoint: Endpoint) -> UserError {
        if code == ECONNREFUSED {
            return UserError(
                "connection refused by \(endpoint): nothing listens on port \(endpoint.port)",
                at: endpoint.location, fix: "start sshd on the host, or fix the port in the cluster file")
        }
        return UserError("cannot connect to \(endpoint): \(String(cString: strerror(code)))", at: endpoint.location,
                         fix: "check the address and the network path to the host")
    }
}

/// A host and port, printed as `host:port` and located as `host host:port`.
struct Endpoint: Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    var location: String { "host \(description)" }
    /// The name OpenSSH writes in known_hosts: `host` for port 22, `[host]:port` otherwise.
    var knownHostsName: String { port == 22 ? host : "[\(host)]:\(port)" }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var secondsText: String {
        let ms = milliseconds
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }
}
