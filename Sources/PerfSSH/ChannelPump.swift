import CLibSSH2
import PerfCore

/// One open exec channel, stepped by the session thread: sends queued stdin bytes and
/// EOF, hands stdout/stderr to the stream as they arrive, closes the channel when the
/// command ends, and reports its exit status. Touched only on the session thread.
final class ChannelPump: @unchecked Sendable {
    // @unchecked: created on and used only by the session thread; handles refer to it
    // only inside jobs submitted to that thread.
    private var channel: OpaquePointer?
    private let output: AsyncThrowingStream<SSHOutput, any Error>.Continuation
    private var writes: [(bytes: [UInt8], offset: Int, done: CheckedContinuation<Result<Void, UserError>, Never>)] = []
    private var eofRequested = false
    private var eofSent = false
    private var eofWaiters: [CheckedContinuation<Result<Void, UserError>, Never>] = []
    private var phase = Phase.running
    private var outcome: Result<SSHExitStatus, UserError>?
    private var exitWaiters: [CheckedContinuation<Result<SSHExitStatus, UserError>, Never>] = []
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    private enum Phase { case running, closing, waitingForClose, done }

    init(channel: OpaquePointer, output: AsyncThrowingStream<SSHOutput, any Error>.Continuation) {
        self.channel = channel
        self.output = output
    }

    var isDone: Bool { phase == .done }

    var hasQueuedData: Bool {
        guard let channel, phase == .running else { return false }
        return libssh2_poll_channel_read(channel, 0) != 0 || libssh2_poll_channel_read(channel, 1) != 0
    }

    func enqueueWrite(_ bytes: [UInt8], done: CheckedContinuation<Result<Void, UserError>, Never>) {
        guard phase == .running, !eofRequested else {
            done.resume(returning: .failure(UserError("the command's input is closed")))
            return
        }
        if bytes.isEmpty { done.resume(returning: .success(())) } else { writes.append((bytes, 0, done)) }
    }

    func requestEOF(done: CheckedContinuation<Result<Void, UserError>, Never>) {
        if eofSent || phase != .running { done.resume(returning: .success(())); return }
        eofRequested = true
        eofWaiters.append(done)
    }

    func waitForExit(_ done: CheckedContinuation<Result<SSHExitStatus, UserError>, Never>) {
        if let outcome { done.resume(returning: outcome) } else { exitWaiters.append(done) }
    }

    /// Does what can be done without blocking; true when anything moved.
    func step(_ core: SessionCore) -> Bool {
        guard let channel, phase != .done else { return false }
        var progressed = false
        let me = ObjectIdentifier(self)
        let mayWrite = core.outboundOwner == nil || core.outboundOwner == me
        if phase == .running && mayWrite {
            if !sendInput(channel, core: core, progressed: &progressed) { return true }
        }
        if !readOutput(channel, core: core, progressed: &progressed) { return true }
        if phase == .running && libssh2_channel_eof(channel) != 0 {
            phase = .closing
            progressed = true
        }
        if phase == .closing && (core.outboundOwner == nil || core.outboundOwner == me) {
            let rc = perf_ssh2_channel_close(channel)
            if rc == LibSSH2.eagain {
                core.outboundOwner = me
            } else {
                if core.outboundOwner == me { core.outboundOwner = nil }
                phase = .waitingForClose
                progressed = true
            }
        }
        if phase == .waitingForClose {
            let rc = libssh2_channel_wait_closed(channel)
            if rc != LibSSH2.eagain {
                finish(.success(exitStatus(channel, session: core.session)), session: core.session)
                progressed = true
            }
        }
        return progressed
    }

    /// Ends the channel without waiting for the remote side (connection closing).
    func abandon(_ error: UserError, session: OpaquePointer?) {
        finish(.failure(error), session: session)
    }

    private func sendInput(_ channel: OpaquePointer, core: SessionCore, progressed: inout Bool) -> Bool {
        let me = ObjectIdentifier(self)
        while !writes.isEmpty {
            let sent = writes[0].bytes.withUnsafeBytes { raw in
                let start = raw.baseAddress.map { $0.advanced(by: writes[0].offset).assumingMemoryBound(to: CChar.self) }
                return perf_ssh2_channel_write(channel, start, raw.count - writes[0].offset)
            }
            if sent == Int(LibSSH2.eagain) { core.outboundOwner = me; return true }
            if core.outboundOwner == me { core.outboundOwner = nil }
            if sent < 0 {
                fail(core.failure("writing to the command's input"), session: core.session)
                return false
            }
            progressed = true
            writes[0].offset += sent
            if writes[0].offset == writes[0].bytes.count {
                writes.removeFirst().done.resume(returning: .success(()))
            }
        }
        if eofRequested && !eofSent {
            let rc = libssh2_channel_send_eof(channel)
            if rc == LibSSH2.eagain { core.outboundOwner = me; return true }
            if core.outboundOwner == me { core.outboundOwner = nil }
            eofSent = true
            progressed = true
            let result: Result<Void, UserError> = rc == 0 ? .success(()) : .failure(core.failure("closing the command's input"))
            for waiter in eofWaiters { waiter.resume(returning: result) }
            eofWaiters.removeAll()
        }
        return true
    }

    private func readOutput(_ channel: OpaquePointer, core: SessionCore, progressed: inout Bool) -> Bool {
        for stream: Int32 in [0, 1] {
            while true {
                let count = buffer.withUnsafeMutableBytes { raw in
                    perf_ssh2_channel_read(channel, stream, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
                }
                if count == Int(LibSSH2.eagain) || count == 0 { break }
                if count < 0 {
                    fail(core.failure("reading the command's output"), session: core.session)
                    return false
                }
                let chunk = Array(buffer[0..<count])
                output.yield(stream == 0 ? .stdout(chunk) : .stderr(chunk))
                progressed = true
            }
        }
        return true
    }

    private func exitStatus(_ channel: OpaquePointer, session: OpaquePointer?) -> SSHExitStatus {
        var signal: UnsafeMutablePointer<CChar>?
        var length = 0
        _ = libssh2_channel_get_exit_signal(channel, &signal, &length, nil, nil, nil, nil)
        if let signal {
            let name = String(cString: signal)
            libssh2_free(session, signal)
            if !name.isEmpty { return SSHExitStatus(code: nil, signal: name) }
        }
        return SSHExitStatus(code: libssh2_channel_get_exit_status(channel), signal: nil)
    }

    private func fail(_ error: UserError, session: OpaquePointer?) {
        finish(.failure(error), session: session)
    }

    private func finish(_ result: Result<SSHExitStatus, UserError>, session: OpaquePointer?) {
        guard phase != .done else { return }
        phase = .done
        if let channel, libssh2_channel_free(channel) == LibSSH2.eagain, let session {
            // Not closed yet and the socket is busy: finish the close blocking, briefly.
            libssh2_session_set_timeout(session, 2000)
            libssh2_session_set_blocking(session, 1)
            _ = libssh2_channel_free(channel)
            libssh2_session_set_blocking(session, 0)
            libssh2_session_set_timeout(session, 0)
        }
        channel = nil
        outcome = result
        switch result {
        case .success: output.finish()
        case .failure(let error): output.finish(throwing: error)
        }
        let stopped = UserError("the command ended before its input was written")
        for write in writes { write.done.resume(returning: .failure(stopped)) }
        writes.removeAll()
        for waiter in eofWaiters { waiter.resume(returning: .success(())) }
        eofWaiters.removeAll()
        for waiter in exitWaiters { waiter.resume(returning: result) }
        exitWaiters.removeAll()
    }
}
