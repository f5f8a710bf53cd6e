import CLibSSH2
import PerfCore

extension SessionCore {
    /// Copies `bytes` to `remotePath` with SCP (the host's `scp -t`), with `mode`'s
    /// permission bits (the remote umask may clear some, as with OpenSSH's scp).
    func upload(_ contents: [UInt8], to remotePath: String, mode: Int32) throws(UserError) {
        let session = try requireSession()
        let what = "copying \(remotePath)"
        guard let channel = try retryPointer(what, {
            libssh2_scp_send64(session, remotePath, mode & 0o7777, Int64(contents.count), 0, 0)
        }) else {
            throw failure(what, fix: "check that the remote directory exists and is writable, and that scp is installed on the host")
        }
        var freed = false
        defer { if !freed { _ = libssh2_channel_free(channel) } }
        // OpenSSH's scp source ends a file with a zero byte; libssh2 1.10 does not send it,
        // and a current `scp -t` then exits 1 ("lost connection") after writing the file.
        let bytes = contents + [0]
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                let start = raw.baseAddress?.advanced(by: offset).assumingMemoryBound(to: CChar.self)
                return perf_ssh2_channel_write(channel, start, raw.count - offset)
            }
            if sent == Int(LibSSH2.eagain) {
                try waitForSocket(what, until: nil)
                continue
            }
            guard sent >= 0 else { throw failure(what) }
            offset += sent
        }
        for (step, call) in [("sending end of file", libssh2_channel_send_eof), ("waiting for scp", libssh2_channel_wait_eof),
                             ("closing the copy", perf_ssh2_channel_close), ("closing the copy", libssh2_channel_wait_closed)] {
            let rc = try retry(what, { call(channel) })
            guard rc == 0 else { throw failure("\(what) (\(step))") }
        }
        let status = libssh2_channel_get_exit_status(channel)
        _ = try retry(what, { libssh2_channel_free(channel) })
        freed = true
        guard status == 0 else {
            throw UserError("scp on \(endpoint) failed copying \(remotePath) (exit \(status))", at: endpoint.location,
                            fix: "check that the remote directory exists and is writable")
        }
    }
}
