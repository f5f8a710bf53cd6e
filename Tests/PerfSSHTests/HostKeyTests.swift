import Foundation
import PerfCore
import Testing
@testable import PerfSSH

@Suite("host-key verification against known_hosts")
struct HostKeyTests {
    enum Entry: String, CaseIterable, Sendable {
        case bracketedHostAndPort, hashedBracketed
    }

    @Test(arguments: Entry.allCases)
    func knownHostEntryIsAccepted(_ entry: Entry) async throws {
        try await SSHDFixture.with { sshd in
            let name = "[127.0.0.1]:\(sshd.port)"
            let hashed = entry == .hashedBracketed
            let file = try sshd.knownHosts(["\(name) \(try sshd.hostKey("ecdsa"))"], hashed: hashed)
            if hashed { #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("|1|")) }
            let ssh = try await sshd.connect(knownHosts: file)
            #expect(try await ssh.run("true").status.code == 0)
            await ssh.close()
        }
    }

    /// As in OpenSSH: off port 22 only `[host]:port` entries count, plain or hashed.
    @Test(arguments: [false, true])
    func plainHostEntryDoesNotVouchForAnotherPort(hashed: Bool) async throws {
        try await SSHDFixture.with { sshd in
            let file = try sshd.knownHosts(["127.0.0.1 \(try sshd.hostKey("ecdsa"))"], hashed: hashed)
            let error = try #require(await userError { _ = try await sshd.connect(knownHosts: file) })
            #expect(error.message.contains("is unknown"))
        }
    }

    @Test func onlyAnEd25519LineStillVerifies() async throws {
        try await SSHDFixture.with { sshd in
            // libssh2 1.10 would ask for the ecdsa key first and find no entry for it.
            let file = try sshd.knownHosts(["[127.0.0.1]:\(sshd.port) \(try sshd.hostKey("ed25519"))"], hashed: true)
            let ssh = try await sshd.connect(knownHosts: file)
            #expect(try await ssh.run("true").status.code == 0)
            await ssh.close()
        }
    }

    @Test func unknownHostKeyIsRefusedWithFingerprintAndLineToAdd() async throws {
        try await SSHDFixture.with { sshd in
            let file = try sshd.knownHosts(["[127.0.0.1]:1 \(try sshd.hostKey("ed25519"))"])
            let error = try #require(await userError { _ = try await sshd.connect(knownHosts: file) })
            #expect(error.location == "host 127.0.0.1:\(sshd.port)")
            #expect(error.message.contains("127.0.0.1:\(sshd.port)"))
            #expect(error.message.contains("unknown"))
            #expect(error.message.contains(try sshd.hostKeyFingerprint("ed25519")))
            #expect(error.fix?.contains("[127.0.0.1]:\(sshd.port) \(try sshd.hostKey("ed25519"))") == true)
            #expect(error.fix?.contains(file) == true)
        }
    }

    @Test func changedHostKeyIsRefusedLoudly() async throws {
        try await SSHDFixture.with { sshd in
            let other = try sshd.makeUserKey(name: "impostor", type: "ed25519", authorize: false)
            let impostor = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
            let file = try sshd.knownHosts(["[127.0.0.1]:\(sshd.port) \(impostor)"])
            let error = try #require(await userError { _ = try await sshd.connect(knownHosts: file) })
            #expect(error.message.contains("HOST KEY OF 127.0.0.1:\(sshd.port) HAS CHANGED"))
            #expect(error.message.contains("man-in-the-middle"))
            #expect(error.message.contains(try sshd.hostKeyFingerprint("ed25519")))
            #expect(error.fix?.contains("ssh-keygen -R") == true)
            // accept-new never overrides a changed key.
            #expect(await userError { _ = try await sshd.connect(knownHosts: file, policy: .acceptNew) } != nil)
        }
    }

    @Test func acceptNewAddsTheKeyAndTrustsItAfterwards() async throws {
        try await SSHDFixture.with { sshd in
            let file = "\(sshd.directory)/fresh/known_hosts"
            let first = try await sshd.connect(knownHosts: file, policy: .acceptNew)
            await first.close()
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(text == "[127.0.0.1]:\(sshd.port) \(try sshd.hostKey("ed25519"))\n")
            let second = try await sshd.connect(knownHosts: file, policy: .strict)
            #expect(try await second.run("true").status.code == 0)
            await second.close()
        }
    }
}
