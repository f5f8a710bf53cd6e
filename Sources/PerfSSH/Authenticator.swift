import CLibSSH2
import Foundation
import PerfCore

/// Logs in with public keys in OpenSSH's order: the ssh-agent, the identity files given,
/// then the default keys. Collects what it tried, so a refusal says which keys and why.
struct Authenticator {
    let options: SSHAuthentication
    let user: String
    let endpoint: Endpoint

    private static let rsaExplanation = """
        RSA keys cannot log in here: libssh2 1.10 signs RSA keys only with ssh-rsa (SHA-1), \
        which current OpenSSH servers refuse
        """

    func authenticate(_ core: SessionCore, deadline: ContinuousClock.Instant) throws(UserError) {
        let session = try core.requireSession()
        let methods = try allowedMethods(core, session: session, deadline: deadline)
        if libssh2_userauth_authenticated(session) != 0 { return }
        guard methods.contains("publickey") else {
            throw UserError("\(endpoint) allows only \(methods) logins for user '\(user)'; perfctl logs in with keys",
                            at: endpoint.location, fix: "enable PubkeyAuthentication on the host and authorise a key for \(user)")
        }
        var tried: [String] = []
        if options.useAgent, let socketPath = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"], !socketPath.isEmpty {
            if try agentLogin(core, session: session, deadline: deadline, tried: &tried) { return }
        }
        var rsaRefused = false
        for path in candidateFiles() {
            guard let key = PrivateKeyFile.read(path) else {
                tried.append("\(path) (cannot read it)")
                continue
            }
            var passphrase: String?
            if key.encrypted {
                passphrase = ProcessInfo.processInfo.environment[options.passphraseVariable]
                guard passphrase != nil else {
                    tried.append("\(path) (encrypted; set \(options.passphraseVariable) to its passphrase or load it into ssh-agent)")
                    continue
                }
            }
            let publicKey = path + ".pub"
            let hasPublicKey = FileManager.default.isReadableFile(atPath: publicKey)
            let rc = try core.retry("logging in", until: deadline) {
                perf_ssh2_userauth_publickey_fromfile(session, user, hasPublicKey ? publicKey : nil, path, passphrase)
            }
            if rc == 0 { return }
            if key.isRSA { rsaRefused = true }
            if rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED {
                tried.append("\(path) (cannot use it: \(LibSSH2.lastError(session))\(key.encrypted ? "; wrong passphrase in \(options.passphraseVariable)?" : ""))")
            } else {
                tried.append("\(path) (refused by the server)")
            }
            if rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_SEND { break }
        }
        throw refusal(tried: tried, rsaRefused: rsaRefused)
    }

    /// The identity files to try, given ones first, then existing default keys, without repeats.
    func candidateFiles() -> [String] {
        var files = options.identityFiles.map(FilePaths.expandingHome)
        if let directory = options.defaultKeyDirectory {
            for name in ["id_ed25519", "id_ecdsa"] {
                let path = directory + "/" + name
                if FileManager.default.fileExists(atPath: path) { files.append(path) }
            }
        }
        var seen = Set<String>()
        return files.filter { seen.insert($0).inserted }
    }

    private func allowedMethods(_ core: SessionCore, session: OpaquePointer, deadline: ContinuousClock.Instant) throws(UserError) -> String {
        while true {
            if let list = libssh2_userauth_list(session, user, UInt32(user.utf8.count)) { return String(cString: list) }
            if libssh2_userauth_authenticated(session) != 0 { return "" }
            guard perf_ssh2_last_errno(session) == LibSSH2.eagain else {
                throw core.failure("asking which logins are allowed")
            }
            try core.waitForSocket("logging in", until: deadline)
        }
    }

    private func agentLogin(_ core: SessionCore, session: OpaquePointer, deadline: ContinuousClock.Instant, tried: inout [String]) throws(UserError) -> Bool {
        guard let agent = libssh2_agent_init(session) else { return false }
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        guard libssh2_agent_connect(agent) == 0, libssh2_agent_list_identities(agent) == 0 else {
            tried.append("ssh-agent (cannot reach it at SSH_AUTH_SOCK)")
            return false
        }
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var count = 0
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            count += 1
            let rc = try core.retry("logging in with the ssh-agent", until: deadline) { libssh2_agent_userauth(agent, user, current) }
            if rc == 0 { return true }
            previous = current
        }
        tried.append("ssh-agent (\(count) key\(count == 1 ? "" : "s"), none accepted)")
        return false
    }

    private func refusal(tried: [String], rsaRefused: Bool) -> UserError {
        let keys = tried.isEmpty ? "no keys (no ssh-agent, no identity files, no ~/.ssh/id_ed25519 or id_ecdsa)" : tried.joined(separator: "; ")
        var message = "\(endpoint) refused the login as user '\(user)': the server accepted none of the keys tried: \(keys)"
        var fix = "check the user name, and that the public key of one of these keys is in ~\(user)/.ssh/authorized_keys on \(endpoint.host)"
        if rsaRefused {
            message += ". \(Self.rsaExplanation)"
            fix = "create an ed25519 key (ssh-keygen -t ed25519), add its .pub line to ~\(user)/.ssh/authorized_keys on \(endpoint.host), and use it"
        }
        return UserError(message, at: endpoint.location, fix: fix)
    }
}
