import LianKernels
import LianNN
import LianTensor

/// Scales all gradients so that their global L2 norm is at most `maxNorm`, as PyTorch's
/// `clip_grad_norm_` does (factor = maxNorm / (norm + 1e-6), capped at 1). Returns the norm
/// before clipping; a non-finite norm is returned and nothing is scaled, so the caller can skip
/// the step.
@discardableResult
public func clipGradientNorm(_ parameters: [(path: String, parameter: Parameter)], maxNorm: Float) -> Float {
    clipGradientNorm(parameters, maxNorm: maxNorm, norm: gradientNorm(parameters))
}

/// As above when the caller already has the global norm (`gradientNorm`), so the gradients are not
/// read twice.
@discardableResult
public func clipGradientNorm(_ parameters: [(path: String, parameter: Parameter)], maxNorm: Float, norm: Float) -> Float {
    guard norm.isFinite else { return norm }
    let factor = min(1, Float(Double(maxNorm) / (Double(norm) + 1e-6)))
    if factor < 1 { for (_, p) in parameters { p.value.scaleGrad(by: factor) } }
    return norm
}

/// The global L2 norm of all gradients (each tensor's sum of squares in Double).
public func gradientNorm(_ parameters: [(path: String, parameter: Parameter)]) -> Float {
    var total = 0.0
    for (_, p) in parameters {
        guard let g = p.grad else { continue }
        total += g.withUnsafeBufferPointer { OptimizerKernels.sumOfSquares($0.baseAddress!, $0.count) }
    }
    return Float(total.squareRoot())
}
