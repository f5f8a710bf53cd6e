/// Byte classes tested 8 bytes at a time in one `UInt64` (SWAR), for the JSON hot loops.
///
/// Each function returns the high bit of every flagged byte, first byte lowest, so
/// `trailingZeroBitCount / 8` is the index of the first flagged byte. Where noted, flags above
/// the first one may be wrong (a borrow crosses bytes); the first one is always right.
enum EightBytes {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The 8 bytes at `offset`, first byte lowest.
    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Zero bytes (exact up to the first).
    @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highBits
    }

    /// Bytes that end a string's plain run: `"`, `\\`, and control characters below 0x20
    /// (exact up to the first).
    @inline(__always)
    static func stringStops(_ word: UInt64) -> UInt64 {
        let quotes = zeroBytes(word ^ (ones &* 0x22))
        let backslashes = zeroBytes(word ^ (ones &* 0x5C))
        let controls = (word &- ones &* 0x20) & ~word & highBits
        return quotes | backslashes | controls
    }

    /// Bytes that are not ASCII digits (exact for every byte).
    @inline(__always)
    static func nonDigits(_ word: UInt64) -> UInt64 {
        let offsets = word ^ (ones &* 0x30)
        return (((offsets & ~highBits) &+ ones &* 0x76) | offsets) & highBits
    }
}
