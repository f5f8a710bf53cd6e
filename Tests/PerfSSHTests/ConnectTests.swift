import Foundation
import PerfCore
import Testing
@testable import PerfSSH

@Suite("TCP connect")
struct ConnectTests {
    @Test func portWithNothingListeningIsRefusedFast() async throws {
        let port = try SSHDFixture.freePort()
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(await userError {
            _ = try await SSHConnection.connect(host: "127.0.0.1", port: port, user: "nobody", timeout: .seconds(20),
                                                authentication: SSHAuthentication(useAgent: false, defaultKeyDirectory: nil))
        })
        // Far below the timeout (20 s): a refusal is not waited out. (The slack is for a
        // busy test pool, which resumes the test late.)
        #expect(start.duration(to: clock.now) < .seconds(5))
        #expect(error.message.contains("connection refused by 127.0.0.1:\(port)"))
        #expect(error.location == "host 127.0.0.1:\(port)")
    }

    @Test func hostThatDropsTheConnectionFailsWithinTheTimeout() async throws {
        // A listener whose accept queue is full: Linux drops further SYNs, like a dead host.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = SSHDFixture.loopback(port: try SSHDFixture.freePort())
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(listener, 0) == 0)
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<3 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(fd)
        }
        usleep(200_000)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(await userError {
            _ = try await SSHConnection.connect(host: "127.0.0.1", port: port, user: "nobody", timeout: .seconds(2),
                                                authentication: SSHAuthentication(useAgent: false, defaultKeyDirectory: nil))
        })
        let elapsed = start.duration(to: clock.now)
        // The timeout ends it, not the kernel's ~72 s of SYN retries; the upper bound has
        // slack for a busy test pool, which resumes the test late.
        #expect(elapsed >= .milliseconds(1900))
        #expect(elapsed < .seconds(10))
        #expect(error.message.contains("no answer from 127.0.0.1:\(port) within 2 s"))
    }

    @Test func closingReleasesTheSocket() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            _ = try await ssh.run("true")
            let established = try sshd.clientSockets()
            #expect(!established.isEmpty)
            await ssh.close()
            try await Task.sleep(for: .milliseconds(200))
            #expect(try sshd.clientSockets().isEmpty)
            // A closed connection refuses work with an error instead of hanging.
            #expect(await userError { _ = try await ssh.run("true") } != nil)
        }
    }
}

extension SSHDFixture {
    /// This process's TCP connections to the fixture's port (from /proc/net/tcp, in ESTABLISHED state).
    func clientSockets() throws -> [String] {
        let table = try readProcFile("/proc/self/net/tcp")
        let remote = String(format: ":%04X", port)
        let ownInodes = Set(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { fd -> String? in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
                  target.hasPrefix("socket:[") else { return nil }
            return String(target.dropFirst(8).dropLast())
        })
        return table.split(separator: "\n").dropFirst().compactMap { row in
            let fields = row.split(separator: " ")
            guard fields.count > 9, fields[2].hasSuffix(remote), ownInodes.contains(String(fields[9])) else { return nil }
            return String(row)
        }
    }
}

/// All of a /proc file (their reported size is 0, so read until the end).
func readProcFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FixtureError("cannot open \(path)") }
    defer { close(fd) }
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(fd, &buffer, buffer.count)
        if count <= 0 { break }
        data += buffer[0..<count]
    }
    return String(decoding: data, as: UTF8.self)
}
