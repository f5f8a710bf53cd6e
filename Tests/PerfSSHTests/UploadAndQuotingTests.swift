import Foundation
import PerfCore
import Testing
@testable import PerfSSH

@Suite("uploads and remote quoting")
struct UploadAndQuotingTests {
    @Test func uploadWritesTheBytesAndModeBits() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
            let target = "\(sshd.directory)/deployed agent"
            try await ssh.upload(bytes, to: target, mode: 0o750)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: target))) == bytes)
            let attributes = try FileManager.default.attributesOfItem(atPath: target)
            #expect((attributes[.posixPermissions] as? Int) == 0o750)
            let remote = try await ssh.run("stat -c %a " + ShellQuoting.quote(target))
            #expect(remote.stdoutText == "750\n")
            // Uploading again replaces the contents.
            try await ssh.upload(Array("small".utf8), to: target, mode: 0o640)
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "small")
            await ssh.close()
        }
    }

    @Test func uploadIntoAMissingDirectoryFailsWithAUserError() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let error = try #require(await userError {
                try await ssh.upload([1, 2, 3], to: "\(sshd.directory)/no/such/dir/file", mode: 0o644)
            })
            #expect(error.location == "host 127.0.0.1:\(sshd.port)")
            #expect(try await ssh.run("true").status.code == 0)
            await ssh.close()
        }
    }

    @Test func quotedArgumentsRoundTripThroughTheRemoteShell() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let arguments = ["plain", "with space", "it's", "\"double\"", "$HOME", "a;b", "`id`", "line\nbreak", "*", "", "\\", "$(echo x)", "'"]
            let result = try await ssh.run(ShellQuoting.commandLine(["printf", "%s\\0"] + arguments))
            let back = result.stdout.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
            #expect(back == arguments)
        }
    }

    @Test func quoteWrapsInSingleQuotes() {
        #expect(ShellQuoting.quote("it's") == #"'it'\''s'"#)
        #expect(ShellQuoting.quote("") == "''")
    }
}
