/// Frames: a 4-byte big-endian payload length, then the payload (one JSON message).
public enum Framing {
    /// `payload` with its length prefix.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        let count = UInt32(payload.count)
        var bytes: [UInt8] = [UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)]
        bytes.reserveCapacity(4 + payload.count)
        bytes += payload
        return bytes
    }
}

/// A frame announced a length above `WireProtocol.maximumFrameBytes`.
public struct OversizedFrame: Error, Sendable, CustomStringConvertible {
    public var length: Int
    public var description: String {
        "peer announced a \(length)-byte frame (limit \(WireProtocol.maximumFrameBytes)); the stream is not the perfctl agent protocol"
    }
}

/// Reassembles frames from bytes that arrive in arbitrary pieces.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    private let limit: Int

    public init(limit: Int = WireProtocol.maximumFrameBytes) { self.limit = limit }

    /// Adds received bytes.
    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) { buffer.append(contentsOf: bytes) }

    /// The next complete payload, or `nil` until more bytes arrive.
    public mutating func nextFrame() throws(OversizedFrame) -> [UInt8]? {
        guard buffer.count - start >= 4 else { return nil }
        let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= limit else { throw OversizedFrame(length: length) }
        guard buffer.count - start - 4 >= length else { return nil }
        let payload = Array(buffer[start + 4..<start + 4 + length])
        start += 4 + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 1 << 20 {
            buffer.removeFirst(start)
            start = 0
        }
        return payload
    }

    /// Bytes received that do not yet form a whole frame.
    public var pendingByteCount: Int { buffer.count - start }
}
