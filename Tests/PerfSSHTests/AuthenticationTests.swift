import Foundation
import PerfCore
import Testing
@testable import PerfSSH

@Suite("login with keys")
struct AuthenticationTests {
    @Test func wrongUserIsRefusedNamingHostUserAndKeysTried() async throws {
        try await SSHDFixture.with { sshd in
            let error = try #require(await userError { _ = try await sshd.connect(user: "nosuchuser") })
            #expect(error.location == "host 127.0.0.1:\(sshd.port)")
            #expect(error.message.contains("as user 'nosuchuser'"))
            #expect(error.message.contains(sshd.userKey))
            #expect(error.fix?.contains("check the user name") == true)
        }
    }

    @Test func unauthorisedKeyIsRefusedNamingTheKeyFile() async throws {
        try await SSHDFixture.with { sshd in
            let stranger = try sshd.makeUserKey(name: "stranger", type: "ed25519", authorize: false)
            let error = try #require(await userError { _ = try await sshd.connect(keys: [stranger]) })
            #expect(error.message.contains("\(stranger) (refused by the server)"))
            #expect(error.fix?.contains("authorized_keys") == true)
        }
    }

    @Test func laterKeyIsTriedWhenTheFirstIsRefused() async throws {
        try await SSHDFixture.with { sshd in
            let stranger = try sshd.makeUserKey(name: "stranger", type: "ed25519", authorize: false)
            let ecdsa = try sshd.makeUserKey(name: "user_ecdsa", type: "ecdsa", authorize: true)
            let ssh = try await sshd.connect(keys: [stranger, "\(sshd.directory)/missing", ecdsa])
            #expect(try await ssh.run("true").status.code == 0)
            await ssh.close()
        }
    }

    @Test func rsaKeyGetsTheSha1Explanation() async throws {
        try await SSHDFixture.with { sshd in
            let rsa = try sshd.makeUserKey(name: "user_rsa", type: "rsa", authorize: true)
            let error = try #require(await userError { _ = try await sshd.connect(keys: [rsa]) })
            #expect(error.message.contains("libssh2 1.10 signs RSA keys only with ssh-rsa (SHA-1)"))
            #expect(error.fix?.contains("ssh-keygen -t ed25519") == true)
        }
    }

    @Test func passphraseComesFromTheEnvironmentVariable() async throws {
        try await SSHDFixture.with { sshd in
            let key = try sshd.makeUserKey(name: "locked", type: "ed25519", passphrase: "open sesame", authorize: true)
            let variable = "PERFCTL_TEST_PASSPHRASE_\(sshd.port)"
            let missing = try #require(await userError { _ = try await sshd.connect(keys: [key], passphraseVariable: variable) })
            #expect(missing.message.contains("encrypted; set \(variable)"))
            setenv(variable, "open sesame", 1)
            defer { unsetenv(variable) }
            let ssh = try await sshd.connect(keys: [key], passphraseVariable: variable)
            #expect(try await ssh.run("echo in").stdoutText == "in\n")
            await ssh.close()
        }
    }
}
