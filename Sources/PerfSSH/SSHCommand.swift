import CLibSSH2
import PerfCore

/// A command running on the remote host over an exec channel. Its output arrives in
/// `output` as the command prints it; `write` and `closeInput` feed its stdin.
public final class SSHCommand: Sendable {
    /// stdout and stderr chunks in arrival order; finishes when the command has ended
    /// (throws a `UserError` when the connection fails first).
    public let output: AsyncThrowingStream<SSHOutput, any Error>
    private let loop: SessionLoop
    private let pump: ChannelPump

    init(output: AsyncThrowingStream<SSHOutput, any Error>, loop: SessionLoop, pump: ChannelPump) {
        self.output = output
        self.loop = loop
        self.pump = pump
    }

    /// Sends bytes to the command's stdin; returns once libssh2 has taken all of them.
    public func write(_ bytes: [UInt8]) async throws(UserError) {
        let pump = pump
        let result = await withCheckedContinuation { done in
            loop.submit { _ in pump.enqueueWrite(bytes, done: done) }
        }
        try result.get()
    }

    /// Sends a string's UTF-8 bytes to the command's stdin.
    public func write(_ text: String) async throws(UserError) {
        try await write(Array(text.utf8))
    }

    /// Closes the command's stdin (EOF) after everything written before.
    public func closeInput() async throws(UserError) {
        let pump = pump
        let result = await withCheckedContinuation { done in
            loop.submit { _ in pump.requestEOF(done: done) }
        }
        try result.get()
    }

    /// Waits until the command has ended and its channel is closed.
    public func exitStatus() async throws(UserError) -> SSHExitStatus {
        let pump = pump
        let result = await withCheckedContinuation { done in
            loop.submit { _ in pump.waitForExit(done) }
        }
        return try result.get()
    }
}

extension SessionCore {
    /// Opens a session channel and starts `command` in it (the remote user's shell runs it).
    func startCommand(_ command: String) throws(UserError) -> (ChannelPump, AsyncThrowingStream<SSHOutput, any Error>) {
        let session = try requireSession()
        guard let channel = try retryPointer("opening a channel", { perf_ssh2_channel_open_session(session) }) else {
            throw failure("opening a channel")
        }
        let bytes = Array(command.utf8)
        let rc = try retry("starting a command") {
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { perf_ssh2_channel_exec(channel, $0.baseAddress, UInt32($0.count)) }
            }
        }
        guard rc == 0 else {
            let error = failure("starting a command")
            libssh2_channel_free(channel)
            throw error
        }
        let (stream, continuation) = AsyncThrowingStream<SSHOutput, any Error>.makeStream()
        let pump = ChannelPump(channel: channel, output: continuation)
        channels.append(pump)
        return (pump, stream)
    }
}
