/// The element types of a safetensors file that Lian reads and writes.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { [.f64, .f32, .f16, .bf16].contains(self) }
}

/// IEEE half → Float, exactly (every half is a Float).
@inlinable
public func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa · 2^−24.
        let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))   // inf or NaN
    }
    return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
}

/// Float → IEEE half bits, rounding to nearest even; overflow gives ±inf, NaN stays NaN.
@inlinable
public func halfBitsFromFloat(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    var mantissa = bits & 0x7F_FFFF
    if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0) }
    let e = exponent - 127 + 15
    if e >= 31 { return sign | 0x7C00 }
    if e <= 0 {
        // Subnormal half (or zero): shift the implicit 1 in, then round.
        if e < -10 { return sign }
        mantissa |= 0x80_0000
        let shift = UInt32(14 - e)
        let half = mantissa >> shift
        let remainder = mantissa & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
        let rounded = half + ((remainder > halfway || (remainder == halfway && half & 1 == 1)) ? 1 : 0)
        return sign | UInt16(rounded)
    }
    var half = UInt32(e) << 10 | (mantissa >> 13)
    let remainder = mantissa & 0x1FFF
    if remainder > 0x1000 || (remainder == 0x1000 && half & 1 == 1) { half += 1 }   // may carry into the exponent: correct
    return sign | UInt16(half)
}

/// bfloat16 → Float: the upper 16 bits of a Float.
@inlinable
public func floatFromBFloat16Bits(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// Float → bfloat16 bits, rounding to nearest even; NaN stays NaN.
@inlinable
public func bfloat16BitsFromFloat(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    if f.isNaN { return UInt16(bits >> 16) | 0x40 }
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
}
