import Foundation
import Synchronization
import PerfCore
@testable import PerfSSH

/// A real OpenSSH sshd on 127.0.0.1 and a free high port, with its own host keys
/// (ed25519 and ecdsa), authorized_keys and temp directory. One per test.
final class SSHDFixture: @unchecked Sendable {
    let directory: String
    let port: Int
    let user: String
    /// A user key (ed25519) that is in authorized_keys.
    let userKey: String
    private let process: Spawned

    private init(directory: String, port: Int, user: String, userKey: String, process: Spawned) {
        self.directory = directory
        self.port = port
        self.user = user
        self.userKey = userKey
        self.process = process
    }

    /// Starts sshd and waits until it listens. A port taken meanwhile by another test's
    /// sshd makes ours exit; then it tries again on another port.
    static func start() throws -> SSHDFixture {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("perfssh-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        for type in ["ed25519", "ecdsa"] {
            try shell("ssh-keygen", "-q", "-t", type, "-N", "", "-f", "\(directory)/host_\(type)")
        }
        _ = FileManager.default.createFile(atPath: "\(directory)/authorized_keys", contents: Data())
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        for _ in 0..<5 {
            let port = try freePort()
            let config = """
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(directory)/host_ed25519
                HostKey \(directory)/host_ecdsa
                PidFile \(directory)/sshd.pid
                AuthorizedKeysFile \(directory)/authorized_keys
                PermitRootLogin prohibit-password
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                StrictModes no
                LogLevel ERROR

                """
            try config.write(toFile: "\(directory)/sshd_config", atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: "\(directory)/sshd.pid")
            let process = try Spawned.start(["/usr/sbin/sshd", "-D", "-e", "-f", "\(directory)/sshd_config"])
            let fixture = SSHDFixture(directory: directory, port: port, user: user, userKey: "\(directory)/user_ed25519", process: process)
            if fixture.waitUntilListening() && fixture.servesItsOwnHostKey() {
                try fixture.makeUserKey(name: "user_ed25519", type: "ed25519", authorize: true)
                return fixture
            }
            process.terminate()
        }
        throw FixtureError("sshd did not start; run /usr/sbin/sshd -d -f \(directory)/sshd_config to see why")
    }

    /// Runs `body` with a fresh sshd and stops it afterwards. Starting and stopping block
    /// (ssh-keygen, waitpid), so they run on their own thread, not the tests' shared pool.
    static func with<T>(_ body: (SSHDFixture) async throws -> T) async throws -> T {
        let fixture = try await offPool { try start() }
        do {
            let result = try await body(fixture)
            await offPool { fixture.stop() }
            return result
        } catch {
            await offPool { fixture.stop() }
            throw error
        }
    }

    /// Runs blocking work on a new thread and waits for it without holding a pool thread.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    static func offPool(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            Thread {
                work()
                continuation.resume()
            }.start()
        }
    }

    func stop() {
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates a user key; `authorize` adds its public key to authorized_keys.
    @discardableResult
    func makeUserKey(name: String, type: String, passphrase: String = "", authorize: Bool) throws -> String {
        let path = "\(directory)/\(name)"
        var arguments = ["-q", "-t", type, "-N", passphrase, "-f", path]
        if type == "rsa" { arguments += ["-b", "2048"] }
        try Self.shell("ssh-keygen", arguments)
        if authorize {
            let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/authorized_keys"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(line.utf8))
            try handle.close()
        }
        return path
    }

    /// `type base64` of one of the server's host keys.
    func hostKey(_ type: String) throws -> String {
        let line = try String(contentsOfFile: "\(directory)/host_\(type).pub", encoding: .utf8)
        return line.split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// OpenSSH's SHA256 fingerprint of one of the server's host keys.
    func hostKeyFingerprint(_ type: String) throws -> String {
        let output = try Self.shell("ssh-keygen", "-l", "-E", "sha256", "-f", "\(directory)/host_\(type).pub")
        return String(output.split(separator: " ")[1])
    }

    /// Writes a known_hosts file with the given lines; `hashed` runs `ssh-keygen -H` on it.
    func knownHosts(_ lines: [String], hashed: Bool = false, name: String = "known_hosts") throws -> String {
        let path = "\(directory)/\(name)"
        try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        if hashed {
            try Self.shell("ssh-keygen", "-q", "-H", "-f", path)
            try? FileManager.default.removeItem(atPath: path + ".old")
        }
        return path
    }

    /// A known_hosts file that trusts both host keys under `[127.0.0.1]:port`.
    func trustingKnownHosts() throws -> String {
        try knownHosts(["ed25519", "ecdsa"].map { "[127.0.0.1]:\(port) \(try hostKey($0))" })
    }

    /// Connects as `user` with only the given key files (no agent, no ~/.ssh keys).
    func connect(
        user: String? = nil, keys: [String]? = nil, knownHosts: String? = nil, policy: HostKeyPolicy = .strict,
        passphraseVariable: String = SSHAuthentication.passphraseVariableName
    ) async throws -> SSHConnection {
        try await SSHConnection.connect(
            host: "127.0.0.1", port: port, user: user ?? self.user, timeout: .seconds(10),
            hostKeys: HostKeyChecking(knownHostsPath: try knownHosts ?? trustingKnownHosts(), policy: policy),
            authentication: SSHAuthentication(identityFiles: keys ?? [userKey], useAgent: false, defaultKeyDirectory: nil,
                                              passphraseVariable: passphraseVariable))
    }

    /// True once sshd has written its pid file (it does so after binding the port) and
    /// the port accepts; false when sshd exited (e.g. the port was taken).
    private func waitUntilListening() -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning() else { return false }
            let pid = (try? String(contentsOfFile: "\(directory)/sshd.pid", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if pid == String(process.pid) && Self.accepts(port: port) { return true }
            usleep(20_000)
        }
        return false
    }

    /// Whether the server answering on the port shows this fixture's host key, so a test
    /// never talks to another test's sshd (seen once in CI: a foreign key on our port).
    private func servesItsOwnHostKey() -> Bool {
        guard let ours = try? String(contentsOfFile: "\(directory)/host_ed25519.pub", encoding: .utf8)
            .split(separator: " ").dropFirst().first,
              let scanned = try? Self.shell("ssh-keyscan", "-T", "5", "-t", "ed25519", "-p", String(port), "127.0.0.1")
        else { return false }
        return scanned.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(2).first == ours }
    }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Ports handed to fixtures, below the kernel's ephemeral range (32768–60999) so no
    /// outgoing connection holds them, and never the same one twice in this test process.
    private static let nextPort = Mutex(20000 + Int.random(in: 0..<10000))

    /// A port no other fixture of this process was given, and free a moment ago.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = nextPort.withLock { port in
                defer { port = port >= 32000 ? 20000 : port + 1 }
                return port
            }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = loopback(port: port)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound { return port }
        }
        throw FixtureError("cannot find a free port")
    }

    @discardableResult
    static func shell(_ program: String, _ arguments: String...) throws -> String {
        try shell(program, arguments)
    }

    @discardableResult
    static func shell(_ program: String, _ arguments: [String]) throws -> String {
        try Spawned.output([program] + arguments)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
