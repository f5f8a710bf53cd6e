import Foundation
import PerfCore
import Testing
@testable import PerfSSH

@Suite("exec channels on a real sshd")
struct ExecChannelTests {
    @Test func echoPrintsAndExitsZero() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let result = try await ssh.run("echo hello from sshd")
            #expect(result.stdoutText == "hello from sshd\n")
            #expect(result.status == SSHExitStatus(code: 0, signal: nil))
            await ssh.close()
        }
    }

    @Test func exitCodeAndKillingSignalAreReported() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let exited = try await ssh.run("echo oops >&2; exit 3")
            #expect(exited.status == SSHExitStatus(code: 3, signal: nil))
            // The login shell's start-up files may print first (here ~/.bashrc's `pyenv init`
            // sometimes races another shell's rehash): the command's own output comes last.
            #expect(String(decoding: exited.stderr, as: UTF8.self).hasSuffix("oops\n"))
            let killed = try await ssh.run("kill -TERM $$")
            #expect(killed.status == SSHExitStatus(code: nil, signal: "TERM"))
            await ssh.close()
        }
    }

    @Test func stdinStreamsToCatAndBackLineByLine() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let cat = try await ssh.start("cat")
            var output = cat.output.makeAsyncIterator()
            // Each line comes back before the next is sent: both directions stream.
            for line in ["first line\n", "second line\n", "third\n"] {
                try await cat.write(line)
                var echoed: [UInt8] = []
                while echoed.count < line.utf8.count, let chunk = try await output.next() {
                    if case .stdout(let bytes) = chunk { echoed += bytes }
                }
                #expect(String(decoding: echoed, as: UTF8.self) == line)
            }
            try await cat.closeInput()
            while try await output.next() != nil {}
            #expect(try await cat.exitStatus() == SSHExitStatus(code: 0, signal: nil))
            await ssh.close()
        }
    }

    @Test func fiveMegabytesOfOutputArriveIntact() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let result = try await ssh.run("seq 1 800000")
            let expected = (1...800_000).map(String.init).joined(separator: "\n") + "\n"
            #expect(result.stdout.count > 5_000_000)
            #expect(result.stdout == Array(expected.utf8))
            #expect(result.status.code == 0)
            await ssh.close()
        }
    }

    @Test func bigInputReachesTheCommandIntact() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let input = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let result = try await ssh.run("wc -c", input: input)
            #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "2000000")
            await ssh.close()
        }
    }

    @Test func longCommandOutputStreamsWhileItRuns() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            let go = "\(sshd.directory)/go"
            // The command waits for `go`, which the test creates only after "tick 1" has
            // arrived: output streams while the command runs (no timing guesses on a busy
            // machine), and the whole command still runs more than 3 s.
            let script = "echo tick 1; while [ ! -e \(ShellQuoting.quote(go)) ]; do sleep 0.1; done; "
                + "sleep 1; echo tick 2; sleep 1; echo tick 3; sleep 1"
            let clock = ContinuousClock()
            let start = clock.now
            let command = try await ssh.start(script)
            var text = ""
            var chunks = 0
            for try await chunk in command.output {
                guard case .stdout(let bytes) = chunk else { continue }
                text += String(decoding: bytes, as: UTF8.self)
                chunks += 1
                if text == "tick 1\n" { _ = FileManager.default.createFile(atPath: go, contents: Data()) }
            }
            #expect(text == "tick 1\ntick 2\ntick 3\n")
            #expect(chunks >= 3)
            #expect(try await command.exitStatus().code == 0)
            #expect(start.duration(to: clock.now) >= .seconds(3))
            await ssh.close()
        }
    }

    @Test func severalCommandsRunAtOnceOnOneConnection() async throws {
        try await SSHDFixture.with { sshd in
            let ssh = try await sshd.connect()
            async let a = ssh.run("sleep 0.5; echo a")
            async let b = ssh.run("echo b")
            let (resultA, resultB) = try await (a, b)
            #expect(resultA.stdoutText == "a\n")
            #expect(resultB.stdoutText == "b\n")
            await ssh.close()
        }
    }
}
