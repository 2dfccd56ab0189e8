import LianKernels

/// An N-dimensional array of Float32 with reverse-mode automatic differentiation.
///
/// A tensor is a value: copying one is cheap and shares memory until one copy is written to
/// (copy-on-write). Elements are always stored contiguously in row-major order; `reshaped` and
/// slices along the first axis are views of the same memory, other layout changes copy.
///
/// A tensor takes part in autograd when it `requiresGrad` (a parameter) or was computed from
/// one while gradients are recorded (see `withNoGrad`); `backward()` then fills `grad` of every
/// parameter it depends on.
public struct Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage
    /// Where this tensor's first element sits in `storage`.
    @usableFromInline var offset: Int
    /// The autograd record, present when gradients flow through this tensor.
    var node: AutogradNode?

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// The number of dimensions.
    public var rank: Int { shape.count }

    init(shape: [Int], storage: TensorStorage, offset: Int = 0) {
        self.shape = shape
        self.storage = storage
        self.offset = offset
        self.node = nil
    }

    /// A tensor with uninitialized memory, for ops that fill it.
    init(uninitializedShape shape: [Int]) {
        Tensor.checkShape(shape)
        self.init(shape: shape, storage: TensorStorage(count: shape.reduce(1, *)))
    }

    /// A tensor holding `values` in row-major order.
    public init(shape: [Int], values: [Float]) {
        Tensor.checkShape(shape)
        precondition(values.count == shape.reduce(1, *),
                     "[Tensor] \(values.count) values do not fill shape \(shape)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A rank-0 tensor holding one number.
    public init(_ scalar: Float) {
        self.init(shape: [], values: [scalar])
    }

    static func checkShape(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "[Tensor] negative dimension in shape \(shape)")
    }

    // MARK: reading and writing

    /// The elements in row-major order.
    public var scalars: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "[item] tensor of shape \(shape) has \(count) elements, not 1")
        return storage.pointer[offset]
    }

    /// Reads the elements in place.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer + offset, count: count))
    }

    /// Writes the elements in place, first copying the memory if another tensor shares it.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer + offset, count: count))
    }

    /// The first element, for reading.
    @usableFromInline var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer + offset) }

    /// The first element, for writing: gives the tensor its own memory first if it shares it.
    /// Ops write their freshly allocated outputs through this.
    var mutablePointer: UnsafeMutablePointer<Float> {
        mutating get {
            makeUnique()
            return storage.pointer + offset
        }
    }

    /// Gives this tensor its own memory if another tensor shares it.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) || storage.count != count {
            let fresh = TensorStorage(count: count)
            fresh.pointer.update(from: storage.pointer + offset, count: count)
            storage = fresh
            offset = 0
        }
    }

    /// The element at a multi-dimensional index (slow; for tests and display).
    public subscript(_ index: Int...) -> Float {
        storage.pointer[offset + flatIndex(index)]
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "[subscript] \(index.count) indices for rank \(rank)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "[subscript] index \(index) outside shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }

    /// The same values, cut off from autograd.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, offset: offset)
    }

    /// Normalizes a possibly negative axis against `rank`.
    func axis(_ a: Int, op: String) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "[\(op)] axis \(a) out of range for rank \(rank)")
        return r
    }
}

/// Token ids and targets: Int32 values with a shape (the inputs of `embedding` and `crossEntropy`).
public struct IndexTensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Int32]

    public init(shape: [Int], values: [Int32]) {
        precondition(values.count == shape.reduce(1, *), "[IndexTensor] \(values.count) values do not fill shape \(shape)")
        self.shape = shape
        self.values = values
    }

    public var count: Int { values.count }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
