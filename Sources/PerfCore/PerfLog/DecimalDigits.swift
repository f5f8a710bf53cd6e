/// The digits of a JSON number as read, and their conversion to the nearest `Double`.
///
/// The value is `(negative ? -1 : 1) × significand × 10^exponent`. With at most 19 significant
/// digits and |exponent| ≤ 27 (where Python's `repr` floats like `2.345678901234567` or
/// `1.1862505351100895e-06` fall), ``exactDouble()`` computes the correctly rounded result with
/// exact integer arithmetic, as 10^e = 5^e × 2^e with 5^e in 64 bits: a 128-bit product, or a
/// 128-by-64-bit quotient whose remainder acts as a sticky bit.
/// Anything else goes to the standard library's parser (``slowDouble(_:)``), which is correctly
/// rounded but costs a `String` and a C call (~300 ns here, against ~30 ns).
struct DecimalDigits {
    private static let maxDigits = 19
    /// 5^0 through 5^27, the powers of five that fit in 64 bits (10^k = 5^k × 2^k).
    private static let powersOfFive: [UInt64] = (0...27).map { (0..<$0).reduce(1) { product, _ in product * 5 } }

    /// Offset of the number's first byte in the parsed text.
    let start: Int
    var negative = false
    private var significand: UInt64 = 0
    private var digitCount = 0
    /// Set when nonzero digits beyond ``maxDigits`` were dropped.
    private var inexact = false
    var exponent = 0

    init(start: Int) {
        self.start = start
    }

    /// Adds a digit before the decimal point (the first one is not zero).
    @inline(__always)
    mutating func appendIntegerDigit(_ digit: UInt8) {
        if digitCount < Self.maxDigits {
            significand = significand &* 10 &+ UInt64(digit)
            digitCount += 1
        } else {
            exponent += 1
            if digit != 0 { inexact = true }
        }
    }

    /// Adds a digit after the decimal point.
    @inline(__always)
    mutating func appendFractionDigit(_ digit: UInt8) {
        if significand == 0 && digit == 0 {
            exponent -= 1
        } else if digitCount < Self.maxDigits {
            significand = significand &* 10 &+ UInt64(digit)
            digitCount += 1
            exponent -= 1
        } else if digit != 0 {
            inexact = true
        }
    }

    /// The correctly rounded value, or nil when the digits are outside the fast path's range.
    func exactDouble() -> Double? {
        guard !inexact else { return nil }
        guard significand != 0 else { return negative ? -0.0 : 0.0 }
        let magnitude: Double?
        switch exponent {
        case 0:
            magnitude = Self.rounded(significand, sticky: false, binaryExponent: 0)
        case 1...27:
            let product = significand.multipliedFullWidth(by: Self.powersOfFive[exponent])
            magnitude = Self.rounded(high: product.high, low: product.low, binaryExponent: exponent)
        case -27 ... -1:
            magnitude = Self.quotient(significand, dividedBy: Self.powersOfFive[-exponent], binaryExponent: exponent)
        default:
            magnitude = nil
        }
        guard let magnitude else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// The nearest double to the number spelt by `text` (already checked against JSON's grammar).
    static func slowDouble(_ text: UnsafeRawBufferPointer) -> Double {
        // The grammar check leaves only what `Double(_:)` accepts; out of range gives ±infinity.
        Double(String(decoding: text, as: UTF8.self)) ?? .nan
    }

    /// `numerator / divisor × 2^binaryExponent`, rounded: the numerator is shifted so the
    /// 128-by-64-bit quotient has 63 or 64 bits, and the remainder tells whether anything was cut off.
    private static func quotient(_ numerator: UInt64, dividedBy divisor: UInt64, binaryExponent: Int) -> Double? {
        let numeratorBits = UInt64.bitWidth - numerator.leadingZeroBitCount
        let divisorBits = UInt64.bitWidth - divisor.leadingZeroBitCount
        // The shifted numerator has 63 + divisorBits bits, so its high word is below the divisor.
        let shift = 63 - numeratorBits + divisorBits
        let high = shift >= 64 ? numerator << (shift - 64) : numerator >> (64 - shift)
        let low = shift >= 64 ? 0 : numerator << shift
        let (quotient, remainder) = divisor.dividingFullWidth((high: high, low: low))
        return rounded(quotient, sticky: remainder != 0, binaryExponent: binaryExponent - shift)
    }

    /// The 128-bit integer `high:low` × 2^binaryExponent, rounded.
    private static func rounded(high: UInt64, low: UInt64, binaryExponent: Int) -> Double? {
        guard high != 0 else { return rounded(low, sticky: false, binaryExponent: binaryExponent) }
        let zeros = high.leadingZeroBitCount
        let top = zeros == 0 ? high : high << zeros | low >> (64 - zeros)
        return rounded(top, sticky: low << zeros != 0, binaryExponent: binaryExponent + 64 - zeros)
    }

    /// `(value + f) × 2^binaryExponent` rounded to nearest, ties to even, where `f` is in (0, 1)
    /// when `sticky` and 0 otherwise. Nil when `value` is too short to round a sticky fraction
    /// (the callers never pass such a value) or the result is not a normal double.
    private static func rounded(_ value: UInt64, sticky: Bool, binaryExponent: Int) -> Double? {
        let extraBits = (UInt64.bitWidth - value.leadingZeroBitCount) - (Double.significandBitCount + 1)
        var significand: UInt64
        var exponent: Int
        if extraBits <= 0 {
            guard !sticky else { return nil }
            significand = value << -extraBits
            exponent = binaryExponent + extraBits
        } else {
            significand = value >> extraBits
            exponent = binaryExponent + extraBits
            let rest = value & (1 << extraBits - 1)
            let half = UInt64(1) << (extraBits - 1)
            if rest > half || (rest == half && (sticky || significand & 1 == 1)) {
                significand += 1
                if significand >> (Double.significandBitCount + 1) != 0 {
                    significand >>= 1
                    exponent += 1
                }
            }
        }
        // significand now has exactly 53 bits: value = significand × 2^exponent.
        let bias = 1 << (Double.exponentBitCount - 1) - 1
        let biased = exponent + Double.significandBitCount + bias
        guard biased > 0, biased < 0x7FF else { return nil }
        let fraction = significand & (1 << Double.significandBitCount - 1)
        return Double(bitPattern: UInt64(biased) << Double.significandBitCount | fraction)
    }
}
