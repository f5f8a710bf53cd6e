import Crypto
import Foundation
import Glibc

/// An OpenSSH known_hosts file, matched the way OpenSSH matches it: plain and
/// wildcard host patterns, negated patterns, `[host]:port` names, hashed
/// (`|1|salt|hash`) names and `@revoked` keys; `@cert-authority` lines are skipped.
///
/// perfctl matches entries itself instead of with libssh2's knownhost API, which
/// reported a changed key for matching entries at random when many sessions
/// checked at once (32 hosts in parallel, libssh2 1.10).
struct KnownHosts: Sendable {
    /// One key line: who it is for, the key type and the base64 key blob.
    struct Entry: Sendable, Equatable {
        var patterns: String
        var keyType: String
        var keyBase64: String
        var revoked: Bool
    }

    /// What the file says about a key a host showed.
    enum Verdict: Equatable {
        case match
        /// The host has an entry of this key type, with another key.
        case mismatch
        /// The key is marked `@revoked`.
        case revoked
        case notFound
    }

    let entries: [Entry]

    init(text: String) {
        entries = text.split(whereSeparator: \.isNewline).compactMap(Self.parse)
    }

    /// `path`'s entries; a missing file has none.
    init(contentsOf path: String) throws {
        guard access(path, F_OK) == 0 else {
            self.init(text: "")
            return
        }
        self.init(text: try String(contentsOfFile: path, encoding: .utf8))
    }

    /// Key types the file has for `host` on `port`, in file order.
    func keyTypes(host: String, port: Int) -> [String] {
        var seen: [String] = []
        for entry in entries where !entry.revoked && Self.matches(entry.patterns, name: Self.name(host, port))
            && !seen.contains(entry.keyType) {
            seen.append(entry.keyType)
        }
        return seen
    }

    /// Checks the key (`keyType`, raw blob) that `host` on `port` showed.
    func verdict(host: String, port: Int, keyType: String, key: [UInt8]) -> Verdict {
        let blob = Data(key).base64EncodedString()
        let name = Self.name(host, port)
        let relevant = entries.filter { Self.matches($0.patterns, name: name) || ($0.revoked && $0.patterns == "*") }
        if relevant.contains(where: { $0.revoked && $0.keyType == keyType && $0.keyBase64 == blob }) { return .revoked }
        let sameType = relevant.filter { !$0.revoked && $0.keyType == keyType }
        if sameType.contains(where: { $0.keyBase64 == blob }) { return .match }
        return sameType.isEmpty ? .notFound : .mismatch
    }

    /// The name OpenSSH looks up: `host`, or `[host]:port` off port 22.
    static func name(_ host: String, _ port: Int) -> String { port == 22 ? host : "[\(host)]:\(port)" }

    private static func parse(_ line: Substring) -> Entry? {
        var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = fields.first, !first.hasPrefix("#") else { return nil }
        var revoked = false
        if first.hasPrefix("@") {
            guard first == "@revoked" else { return nil }  // @cert-authority: certificates are not used here
            revoked = true
            fields.removeFirst()
        }
        guard fields.count >= 3 else { return nil }
        return Entry(patterns: fields[0], keyType: fields[1], keyBase64: fields[2], revoked: revoked)
    }

    /// OpenSSH's rule: some pattern matches and no negated one does.
    static func matches(_ patterns: String, name: String) -> Bool {
        if patterns.hasPrefix("|1|") { return hashedMatches(patterns, name: name) }
        var matched = false
        for pattern in patterns.split(separator: ",") {
            if pattern.hasPrefix("!") {
                if wildcardMatches(Array(pattern.dropFirst().utf8), Array(name.utf8)) { return false }
            } else if wildcardMatches(Array(pattern.utf8), Array(name.utf8)) {
                matched = true
            }
        }
        return matched
    }

    /// OpenSSH's host patterns: `*` any run of characters, `?` one character, anything
    /// else itself (`[` too: `[host]:port` names are literal).
    static func wildcardMatches(_ pattern: [UInt8], _ name: [UInt8]) -> Bool {
        var p = 0, n = 0
        var star: Int?
        var resume = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == name[n] {
                p += 1
                n += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                p += 1
                resume = n
            } else if let star {
                p = star + 1
                resume += 1
                n = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
    private static func hashedMatches(_ field: String, name: String) -> Bool {
        let parts = field.split(separator: "|", omittingEmptySubsequences: true)
        guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])),
              let expected = Data(base64Encoded: String(parts[2])) else { return false }
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.utf8), using: SymmetricKey(data: salt))
        return Data(code) == expected
    }
}
