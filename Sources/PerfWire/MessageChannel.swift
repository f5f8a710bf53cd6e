import Foundation
import Glibc
import Synchronization
import SystemPackage

/// The peer closed the stream or broke the protocol.
public struct ChannelError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Framed JSON messages over a pair of file descriptors (pipes, sockets, an SSH
/// channel bridged by `perf-agent dial`): the one transport-independent link
/// between controller and agent.
///
/// A dedicated thread reads and decodes; `incoming` delivers messages in order
/// and finishes at end of stream. `send` writes whole frames, one at a time.
public final class MessageChannel<Outgoing: Encodable & Sendable, Incoming: Decodable & Sendable>: Sendable {
    /// Messages from the peer, in order; finishes when the peer closes, throws on a broken stream.
    public let incoming: AsyncThrowingStream<Incoming, any Error>
    private let output: Mutex<FileDescriptor?>
    /// Whether `output` is a socket, whose sending side `closeOutput()` shuts down.
    private let outputIsSocket: Bool

    /// Takes ownership of both descriptors: `input` closes at end of stream, `output` on `closeOutput()`.
    public convenience init(input: FileDescriptor, output: FileDescriptor) {
        self.init(input: input, output: output, outputIsSocket: false)
    }

    /// Takes ownership of a connected stream socket, read and written through two
    /// descriptors of it. `closeOutput()` shuts its sending side down, so the peer
    /// reads end of stream while this side can still read. Closes `socket` when it throws.
    public convenience init(socket: FileDescriptor) throws {
        let copy = fcntl(socket.rawValue, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else {
            let cause = Errno(rawValue: errno)
            try? socket.close()
            throw ChannelError("cannot duplicate the connection's socket: \(cause)")
        }
        self.init(input: socket, output: FileDescriptor(rawValue: copy), outputIsSocket: true)
    }

    private init(input: FileDescriptor, output: FileDescriptor, outputIsSocket: Bool) {
        self.output = Mutex(output)
        self.outputIsSocket = outputIsSocket
        let (stream, continuation) = AsyncThrowingStream<Incoming, any Error>.makeStream()
        incoming = stream
        let reader = Thread { Self.readLoop(input, into: continuation) }
        reader.name = "perf-wire-reader"
        reader.start()
    }

    /// Sends one message; throws when the peer is gone.
    public func send(_ message: Outgoing) throws {
        let payload = try Array(JSONEncoder().encode(message))
        let frame = Framing.frame(payload)
        try output.withLock { descriptor in
            guard let descriptor else { throw ChannelError("the channel is closed") }
            do {
                _ = try descriptor.writeAll(frame)
            } catch {
                throw ChannelError("cannot send to the peer: \(error)")
            }
        }
    }

    /// Closes the sending side: the peer reads end of stream.
    public func closeOutput() {
        output.withLock { descriptor in
            if outputIsSocket, let descriptor { shutdown(descriptor.rawValue, Int32(SHUT_WR)) }
            try? descriptor?.close()
            descriptor = nil
        }
    }

    private static func readLoop(
        _ input: FileDescriptor, into continuation: AsyncThrowingStream<Incoming, any Error>.Continuation
    ) {
        defer { try? input.close() }
        var decoder = FrameDecoder()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let json = JSONDecoder()
        while true {
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try input.read(into: $0, retryOnInterrupt: true) }
            } catch {
                continuation.finish(throwing: ChannelError("reading from the peer failed: \(error)"))
                return
            }
            if count == 0 {
                if decoder.pendingByteCount > 0 {
                    continuation.finish(throwing: ChannelError(
                        "the peer closed the stream in the middle of a message (\(decoder.pendingByteCount) bytes pending)"))
                } else {
                    continuation.finish()
                }
                return
            }
            decoder.append(buffer[0..<count])
            do {
                while let frame = try decoder.nextFrame() {
                    continuation.yield(try json.decode(Incoming.self, from: Data(frame)))
                }
            } catch {
                continuation.finish(throwing: ChannelError("the peer sent a message this version cannot read: \(error)"))
                return
            }
        }
    }
}

/// The controller's end of an agent link.
public typealias ControllerChannel = MessageChannel<ControllerMessage, AgentMessage>
/// The agent's end of a controller link.
public typealias AgentChannel = MessageChannel<AgentMessage, ControllerMessage>

/// The controller's view of one agent session, whatever carries its bytes
/// (a local pipe, an SSH exec channel).
public protocol AgentLink: Sendable {
    /// The agent's messages, in order; finishes when the agent closes the session.
    var incoming: AsyncThrowingStream<AgentMessage, any Error> { get }
    /// Sends one message; throws when the agent is gone.
    func send(_ message: ControllerMessage) async throws
    /// Ends the controller's side: the agent reads end of stream.
    func close() async
}

extension MessageChannel: AgentLink where Outgoing == ControllerMessage, Incoming == AgentMessage {
    public func close() async { closeOutput() }
}
