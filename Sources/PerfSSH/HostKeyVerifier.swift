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

    /// A key type libssh2 knows, with its known_hosts bit and method/file name.
    private struct KeyType {
        var knownHostBit: Int32
        var name: String
    }

    private static let types: [KeyType] = [
        KeyType(knownHostBit: perf_ssh2_knownhost_key_ed25519, name: "ssh-ed25519"),
        KeyType(knownHostBit: perf_ssh2_knownhost_key_ecdsa_256, name: "ecdsa-sha2-nistp256"),
        KeyType(knownHostBit: perf_ssh2_knownhost_key_ecdsa_384, name: "ecdsa-sha2-nistp384"),
        KeyType(knownHostBit: perf_ssh2_knownhost_key_ecdsa_521, name: "ecdsa-sha2-nistp521"),
        KeyType(knownHostBit: perf_ssh2_knownhost_key_sshrsa, name: "ssh-rsa"),
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
    /// libssh2 1.10 prefers ecdsa, so a file with only the ed25519 line would otherwise say NOTFOUND.
    func preferKnownKeyTypes(session: OpaquePointer) throws(UserError) {
        let hosts = try load(session: session)
        defer { libssh2_knownhost_free(hosts) }
        // A check with a dummy key says MISMATCH exactly when an entry of that type exists for the host.
        let dummy: [CChar] = [0]
        let known = Self.types.filter { type in
            libssh2_knownhost_checkp(hosts, endpoint.host, Int32(endpoint.port), dummy, 1,
                                     perf_ssh2_knownhost_type_plain | perf_ssh2_knownhost_keyenc_raw | type.knownHostBit,
                                     nil) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH
        }
        // No entry yet: prefer ed25519, as OpenSSH does.
        let order = known.isEmpty ? Self.types : known
        let preference = order.map(\.name).joined(separator: ",")
        if libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, preference) != 0 {
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
        let keyBytes = Data(bytes: key, count: length)
        let line = "\(endpoint.knownHostsName) \(type.name) \(keyBytes.base64EncodedString())"
        let fingerprint = Self.fingerprint(session: session)
        let hosts = try load(session: session)
        defer { libssh2_knownhost_free(hosts) }
        let result = libssh2_knownhost_checkp(hosts, endpoint.host, Int32(endpoint.port), key, length,
                                              perf_ssh2_knownhost_type_plain | perf_ssh2_knownhost_keyenc_raw | type.knownHostBit, nil)
        switch result {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND where checking.policy == .acceptNew:
            try append(line)
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
            throw UserError(
                "the host key of \(endpoint) is unknown: \(type.name) \(fingerprint) is not in \(checking.knownHostsPath)",
                at: endpoint.location,
                fix: """
                check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_\(type.name == "ssh-ed25519" ? "ed25519" : type.name.hasPrefix("ecdsa") ? "ecdsa" : "rsa")_key.pub), \
                then add this line to \(checking.knownHostsPath):
                    \(line)
                  or accept new host keys once with host-key policy accept-new
                """)
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
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
        default:
            throw UserError("checking the host key of \(endpoint) failed: \(LibSSH2.lastError(session))",
                            at: endpoint.location, fix: "check that \(checking.knownHostsPath) is a valid known_hosts file")
        }
    }

    /// OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the key's SHA-256.
    static func fingerprint(session: OpaquePointer) -> String {
        guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else { return "SHA256:?" }
        let digest = Data(bytes: hash, count: 32).base64EncodedString()
        return "SHA256:" + digest.replacing("=", with: "")
    }

    /// Reads the file line by line so that lines libssh2 1.10 cannot parse (certificate
    /// authorities, security-key types, comments) are skipped instead of failing the whole file.
    private func load(session: OpaquePointer) throws(UserError) -> OpaquePointer {
        guard let hosts = libssh2_knownhost_init(session) else {
            throw UserError("libssh2 could not allocate a known-hosts list", at: endpoint.location)
        }
        guard let text = try? String(contentsOfFile: checking.knownHostsPath, encoding: .utf8) else {
            if access(checking.knownHostsPath, F_OK) == 0 {
                libssh2_knownhost_free(hosts)
                throw UserError("cannot read \(checking.knownHostsPath)", at: endpoint.location,
                                fix: "make the known_hosts file readable, or point perfctl at another one")
            }
            return hosts
        }
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), !trimmed.hasPrefix("@") else { continue }
            let bytes = Array(trimmed.utf8)
            _ = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    libssh2_knownhost_readline(hosts, $0.baseAddress, $0.count, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
                }
            }
        }
        return hosts
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
