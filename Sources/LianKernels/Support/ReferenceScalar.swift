#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The number type the naive reference kernels are written over. Tests run the references in
/// Double, so that central finite differences of them are accurate enough to check the Float
/// backward kernels against.
public protocol ReferenceScalar: BinaryFloatingPoint, Sendable {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
}

extension Float: ReferenceScalar {
    public static func exp(_ x: Float) -> Float { expf(x) }
    public static func log(_ x: Float) -> Float { logf(x) }
    public static func tanh(_ x: Float) -> Float { tanhf(x) }
    public static func sin(_ x: Float) -> Float { sinf(x) }
    public static func cos(_ x: Float) -> Float { cosf(x) }
    public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

extension Double: ReferenceScalar {
    public static func exp(_ x: Double) -> Double { Glibc_exp(x) }
    public static func log(_ x: Double) -> Double { Glibc_log(x) }
    public static func tanh(_ x: Double) -> Double { Glibc_tanh(x) }
    public static func sin(_ x: Double) -> Double { Glibc_sin(x) }
    public static func cos(_ x: Double) -> Double { Glibc_cos(x) }
    public static func pow(_ x: Double, _ y: Double) -> Double { Glibc_pow(x, y) }
}

// The C functions under names that do not collide with the protocol's static requirements.
@usableFromInline func Glibc_exp(_ x: Double) -> Double { exp(x) }
@usableFromInline func Glibc_log(_ x: Double) -> Double { log(x) }
@usableFromInline func Glibc_tanh(_ x: Double) -> Double { tanh(x) }
@usableFromInline func Glibc_sin(_ x: Double) -> Double { sin(x) }
@usableFromInline func Glibc_cos(_ x: Double) -> Double { cos(x) }
@usableFromInline func Glibc_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
