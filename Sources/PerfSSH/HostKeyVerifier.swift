import CLibSSH2
import Foundation
import Glibc
import PerfCore

/// Checks the server's host key against a known_hosts file, the way OpenSSH does:
/// unknown and changed keys refuse the host unless the policy says `acceptNew`
/// (which still refuses changed keys).
struct HostKeyVerifier {
    let checking: HostKeyChecking
    let endpoint: Endpoint

    /// A host key type libssh2 can negotiate, by its method and known_hosts name.
    private struct KeyType {
        var name: String
    }

    private static let types: [KeyType] = [
        KeyType(name: "ssh-ed25519"),
        KeyType(name: "ecdsa-sha2-nistp256"),
        KeyType(name: "ecdsa-sha2-nistp384"),
        KeyType(name: "ecdsa-sha2-nistp521"),
        KeyType(name: "ssh-rsa"),
    ]

    private static func type(ofHostKey type: Int32) -> KeyType? {
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_ED25519: types[0]
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: types[1]
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: types[2]
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: types[3]
        case LIBSSH2_HOSTKEY_TYPE_RSA: types[4]
        default: nil
        }
    }

    /// Before the handshake: ask the server for a key type the file has for this host.
    /// libssh2 1.10 prefers ecdsa, so a file with only the ed25519 line would otherwise say unknown.
    func preferKnownKeyTypes(session: OpaquePointer) throws(UserError) {
        let known = try load().keyTypes(host: endpoint.host, port: endpoint.port)
            .filter { name in Self.types.contains { $0.name == name } }
        // No entry yet: prefer ed25519, as OpenSSH does.
        let order = known + Self.types.map(\.name).filter { !known.contains($0) }
        if libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ",")) != 0 {
            _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, Self.types.map(\.name).joined(separator: ","))
        }
    }

    /// After the handshake: accept, add (accept-new) or refuse the key the server showed.
    func verify(session: OpaquePointer) throws(UserError) {
        var length = 0
        var rawType: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &rawType), let type = Self.type(ofHostKey: rawType) else {
            throw UserError("\(endpoint) showed a host key of a type perfctl cannot check", at: endpoint.location,
                            fix: "give the host an ed25519 host key (ssh-keygen -A on the host)")
        }
        let keyBytes = key.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        let line = "\(endpoint.knownHostsName) \(type.name) \(Data(keyBytes).base64EncodedString())"
        let fingerprint = Self.fingerprint(session: session)
        switch try load().verdict(host: endpoint.host, port: endpoint.port, keyType: type.name, key: keyBytes) {
        case .match:
            return
        case .notFound where checking.policy == .acceptNew:
            try append(line)
        case .notFound:
            throw UserError(
                "the host key of \(endpoint) is unknown: \(type.name) \(fingerprint) is not in \(checking.knownHostsPath)",
                at: endpoint.location,
                fix: """
                check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_\(type.name == "ssh-ed25519" ? "ed25519" : type.name.hasPrefix("ecdsa") ? "ecdsa" : "rsa")_key.pub), \
                then add this line to \(checking.knownHostsPath):
                    \(line)
                  or accept new host keys once with host-key policy accept-new
                """)
        case .mismatch:
            throw UserError(
                """
                WARNING: THE HOST KEY OF \(endpoint) HAS CHANGED. Someone could be intercepting the connection \
                (man-in-the-middle), or the host was reinstalled. It now shows \(type.name) \(fingerprint), \
                which differs from its entry in \(checking.knownHostsPath). perfctl refuses to connect.
                """,
                at: endpoint.location,
                fix: """
                only if the change is expected: remove the old entry with \
                ssh-keygen -R '\(endpoint.knownHostsName)' -f \(checking.knownHostsPath), then add:
                    \(line)
                """)
        case .revoked:
            throw UserError(
                "the host key of \(endpoint) (\(type.name) \(fingerprint)) is marked @revoked in \(checking.knownHostsPath)",
                at: endpoint.location, fix: "give the host a new host key and add it to \(checking.knownHostsPath)")
        }
    }

    /// OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the key's SHA-256.
    static func fingerprint(session: OpaquePointer) -> String {
        guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else { return "SHA256:?" }
        let digest = Data(bytes: hash, count: 32).base64EncodedString()
        return "SHA256:" + digest.replacing("=", with: "")
    }

    private func load() throws(UserError) -> KnownHosts {
        do {
            return try KnownHosts(contentsOf: checking.knownHostsPath)
        } catch {
            throw UserError("cannot read \(checking.knownHostsPath): \(error)", at: endpoint.location,
                            fix: "make the known_hosts file readable, or point perfctl at another one")
        }
    }

    /// Adds a line for a newly accepted key, creating the file (mode 0600) when needed.
    private func append(_ line: String) throws(UserError) {
        let path = checking.knownHostsPath
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw UserError("cannot add the host key of \(endpoint) to \(path): \(String(cString: strerror(errno)))",
                            at: endpoint.location, fix: "make \(path) writable")
        }
        defer { close(fd) }
        var size = stat()
        var text = line + "\n"
        if fstat(fd, &size) == 0, size.st_size > 0 {
            // Do not glue the new line onto a last line without a newline.
            var last: UInt8 = 0
            if pread(fd, &last, 1, size.st_size - 1) == 1, last != UInt8(ascii: "\n") { text = "\n" + text }
        }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw UserError("cannot add the host key of \(endpoint) to \(path): \(String(cString: strerror(errno)))",
                            at: endpoint.location, fix: "make \(path) writable")
        }
    }
}
