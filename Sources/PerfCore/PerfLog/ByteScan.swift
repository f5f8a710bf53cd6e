#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Fast searches over raw bytes: the PerfLog token, newlines, and newline counts.
///
/// The loops read 16 bytes at a time with `SIMD16<UInt8>` (SSE2 on x86_64, NEON on arm64), so
/// the scanner walks most of a log only here, never line by line.
enum ByteScan {
    static let newline = UInt8(ascii: "\n")

    /// The first index in `start..<end` where the whole `[PerfLog]` token lies.
    ///
    /// Candidates are positions whose byte is the token's first byte and whose byte
    /// `PerfLogToken.count - 1` further is its last byte (the "generic SIMD" substring filter);
    /// only those are compared in full.
    @inline(__always)
    static func firstToken(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
        let span = PerfLogToken.count - 1
        let first = SIMD16<UInt8>(repeating: PerfLogToken.first)
        let last = SIMD16<UInt8>(repeating: PerfLogToken.last)
        var index = start
        let vectorLimit = end - span - 16
        while index <= vectorLimit {
            let heads = base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            let tails = base.loadUnaligned(fromByteOffset: index &+ span, as: SIMD16<UInt8>.self)
            let candidates = (heads .== first) .& (tails .== last)
            if any(candidates) {
                for lane in 0..<16 where candidates[lane] && PerfLogToken.matches(at: base + index + lane) {
                    return index + lane
                }
            }
            index &+= 16
        }
        while index + span < end {
            if PerfLogToken.matches(at: base + index) { return index }
            index += 1
        }
        return nil
    }

    /// The number of newline bytes in `start..<end`.
    @inline(__always)
    static func newlineCount(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        let newlines = SIMD16<UInt8>(repeating: newline)
        let one = SIMD16<UInt8>(repeating: 1)
        var count = 0
        var index = start
        while index + 16 <= end {
            // Each lane adds at most 255 ones before the lanes are summed.
            let blockLimit = min(end - 16, index + 254 * 16)
            var lanes = SIMD16<UInt8>()
            while index <= blockLimit {
                let bytes = base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
                lanes &+= one.replacing(with: 0, where: bytes .!= newlines)
                index &+= 16
            }
            count &+= Int(lanes.wrappedSum())
        }
        while index < end {
            if base.load(fromByteOffset: index, as: UInt8.self) == newline { count &+= 1 }
            index += 1
        }
        return count
    }

    /// The index of the first newline in `start..<end`.
    @inline(__always)
    static func firstNewline(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
        guard start < end, let found = memchr(base + start, Int32(newline), end - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The index of the last newline in `start..<end` (walks back from `end`: callers use it
    /// where a newline is known to be near).
    @inline(__always)
    static func lastNewline(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
        var index = end - 1
        while index >= start {
            if base.load(fromByteOffset: index, as: UInt8.self) == newline { return index }
            index -= 1
        }
        return nil
    }
}

/// The `[PerfLog]` token that marks a PerfLog line.
enum PerfLogToken {
    static let text = "[PerfLog]"
    static let count = 9
    static let first = UInt8(ascii: "[")
    static let last = UInt8(ascii: "]")

    /// Whether the token starts at `pointer` (the caller guarantees `count` readable bytes).
    @inline(__always)
    static func matches(at pointer: UnsafeRawPointer) -> Bool {
        // "[PerfLog" as one little-endian word, then "]".
        UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)) == 0x676F_4C66_7265_505B
            && pointer.load(fromByteOffset: 8, as: UInt8.self) == last
    }
}
