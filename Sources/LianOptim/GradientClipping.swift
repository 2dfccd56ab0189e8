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
    let factor = clippingFactor(maxNorm: maxNorm, norm: norm)
    if factor < 1 { for (_, p) in parameters { p.value.scaleGrad(by: factor) } }
    return norm
}

/// The factor `clipGradientNorm` would scale these parameters' gradients by (their global norm
/// computed here).
public func clippingFactor(_ parameters: [(path: String, parameter: Parameter)], maxNorm: Float) -> Float {
    clippingFactor(maxNorm: maxNorm, norm: gradientNorm(parameters))
}

/// The factor `clipGradientNorm` scales the gradients by for a global norm `norm`:
/// maxNorm / (norm + 1e-6), capped at 1; 1 for a non-finite norm. A training loop passes it to
/// `Optimizer.step(_:learningRate:gradientScale:)` instead of scaling the gradients in a pass of
/// their own (the same values).
public func clippingFactor(maxNorm: Float, norm: Float) -> Float {
    guard norm.isFinite else { return 1 }
    return min(1, Float(Double(maxNorm) / (Double(norm) + 1e-6)))
}

/// The global L2 norm of all gradients (each tensor's sum of squares in Double).
/// Parameters are summed on all threads, one each at a time, and the parts added in order (the
/// same total whichever thread took which).
public func gradientNorm(_ parameters: [(path: String, parameter: Parameter)]) -> Float {
    let grads = parameters.compactMap(\.parameter.grad)
    var parts = [Double](repeating: 0, count: grads.count)
    parts.withUnsafeMutableBufferPointer { buffer in
        let out = SendablePointer(buffer.baseAddress!)
        parallelDynamic(grads.count) { i in
            out.base[i] = grads[i].withUnsafeBufferPointer { OptimizerKernels.sumOfSquares($0.baseAddress!, $0.count) }
        }
    }
    return Float(parts.reduce(0, +).squareRoot())
}
