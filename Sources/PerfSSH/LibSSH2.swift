import CLibSSH2

/// Process-wide libssh2 set-up; `libssh2_init` is not thread-safe, so it runs once here.
enum LibSSH2 {
    /// Result of `libssh2_init`; reading it makes sure the library is initialised.
    static let initialised: Int32 = libssh2_init(0)

    static let eagain = Int32(LIBSSH2_ERROR_EAGAIN)

    /// The session's last error message, for messages users see.
    static func lastError(_ session: OpaquePointer?) -> String {
        guard let session else { return "no session" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return "libssh2 error \(code)" }
        return String(cString: message)
    }
}
