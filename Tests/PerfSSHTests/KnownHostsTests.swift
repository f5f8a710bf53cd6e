import Foundation
import Testing
@testable import PerfSSH

/// known_hosts matching, the OpenSSH way, on lines OpenSSH's own tools write.
@Suite struct KnownHostsTests {
    static let keyA: [UInt8] = Array("key-a-blob".utf8)
    static let keyB: [UInt8] = Array("key-b-blob".utf8)
    static let a = Data(keyA).base64EncodedString()
    static let b = Data(keyB).base64EncodedString()

    @Test func plainNameMatchesOnlyItsKeyOfItsType() {
        let file = KnownHosts(text: "node1,10.0.0.11 ssh-ed25519 \(Self.a) comment\n# 10.0.0.12 ssh-ed25519 \(Self.b)\n")
        #expect(file.verdict(host: "10.0.0.11", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .match)
        #expect(file.verdict(host: "node1", port: 22, keyType: "ssh-ed25519", key: Self.keyB) == .mismatch)
        #expect(file.verdict(host: "node1", port: 22, keyType: "ecdsa-sha2-nistp256", key: Self.keyA) == .notFound)
        #expect(file.verdict(host: "10.0.0.12", port: 22, keyType: "ssh-ed25519", key: Self.keyB) == .notFound)
        #expect(file.verdict(host: "10.0.0.1", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .notFound,
                "a name that is a prefix of an entry's is another host")
        #expect(file.verdict(host: "10.0.0.111", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .notFound,
                "an entry's name that is a prefix of the host's is another host")
    }

    @Test func portOtherThan22UsesTheBracketedName() {
        let file = KnownHosts(text: "[10.0.0.11]:2222 ssh-ed25519 \(Self.a)\n10.0.0.11 ssh-ed25519 \(Self.b)\n")
        #expect(file.verdict(host: "10.0.0.11", port: 2222, keyType: "ssh-ed25519", key: Self.keyA) == .match)
        #expect(file.verdict(host: "10.0.0.11", port: 2222, keyType: "ssh-ed25519", key: Self.keyB) == .mismatch)
        #expect(file.verdict(host: "10.0.0.11", port: 22, keyType: "ssh-ed25519", key: Self.keyB) == .match)
    }

    @Test func wildcardsNegationRevokedAndCertificateAuthorities() {
        let file = KnownHosts(text: """
            @cert-authority *.lab ssh-ed25519 \(Self.b)
            *.lab,!bad.lab ssh-ed25519 \(Self.a)
            @revoked * ssh-ed25519 \(Self.b)
            """)
        #expect(file.verdict(host: "gpu7.lab", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .match)
        #expect(file.verdict(host: "bad.lab", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .notFound)
        #expect(file.verdict(host: "gpu7.lab", port: 22, keyType: "ssh-ed25519", key: Self.keyB) == .revoked)
        #expect(file.keyTypes(host: "gpu7.lab", port: 22) == ["ssh-ed25519"])
    }

    @Test func hashedEntriesFromSshKeygenMatch() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/known_hosts"
        try "10.0.0.11 ssh-ed25519 \(Self.a)\n[10.0.0.12]:2222 ecdsa-sha2-nistp256 \(Self.b)\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let hash = Process()
        hash.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        hash.arguments = ["-H", "-f", path]
        hash.standardOutput = FileHandle.nullDevice
        hash.standardError = FileHandle.nullDevice
        try hash.run()
        hash.waitUntilExit()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("|1|"), "ssh-keygen -H hashed the names")
        let file = KnownHosts(text: text)
        #expect(file.verdict(host: "10.0.0.11", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .match)
        #expect(file.verdict(host: "10.0.0.11", port: 22, keyType: "ssh-ed25519", key: Self.keyB) == .mismatch)
        #expect(file.verdict(host: "10.0.0.12", port: 2222, keyType: "ecdsa-sha2-nistp256", key: Self.keyB) == .match)
        #expect(file.keyTypes(host: "10.0.0.12", port: 2222) == ["ecdsa-sha2-nistp256"])
        #expect(file.keyTypes(host: "10.0.0.13", port: 22).isEmpty)
    }
}

@Suite struct WildcardTests {
    @Test(arguments: [
        ("*", "anything", true), ("gpu?.lab", "gpu7.lab", true), ("gpu?.lab", "gpu17.lab", false),
        ("*.lab", "a.b.lab", true), ("10.0.0.*", "10.0.0.11", true), ("[10.0.0.11]:2222", "[10.0.0.11]:2222", true),
        ("[10.0.0.11]:2222", "1", false), ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false), ("", "", true),
    ])
    func matches(pattern: String, name: String, expected: Bool) {
        #expect(KnownHosts.wildcardMatches(Array(pattern.utf8), Array(name.utf8)) == expected)
    }
}
