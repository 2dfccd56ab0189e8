import Foundation
import LianKernels

/// OpenBLAS's `cblas_sgemm`, loaded at run time with dlopen when the library is installed
/// (Debian: `libopenblas0`). Lian never needs it to build or run; the benchmark uses it as the peer.
struct OpenBLAS {
    typealias SgemmFunction = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>, Int32, UnsafePointer<Float>, Int32, Float,
        UnsafeMutablePointer<Float>, Int32) -> Void
    typealias SetThreadsFunction = @convention(c) (Int32) -> Void

    let sgemmFunction: SgemmFunction
    let setThreadsFunction: SetThreadsFunction?
    let path: String

    static let candidates = [
        "libopenblas.so.0", "libopenblas.so",
        "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
        "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    ]

    /// The OpenBLAS kernel family chosen for this run: OPENBLAS_CORETYPE when the user set it;
    /// otherwise the best family for this processor, set before loading. (Older OpenBLAS builds,
    /// such as Debian 12's 0.3.21, do not recognise newer processors and fall back to slow generic
    /// kernels — 30 GFLOP/s instead of 150 here — which would make a flattering, unfair peer.)
    static func chooseCoreType() -> String {
        if let set = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !set.isEmpty { return set + " (from OPENBLAS_CORETYPE)" }
        #if arch(x86_64)
        let core = CPUFeatures.hasAVX512 ? "SkylakeX" : "Haswell"
        setenv("OPENBLAS_CORETYPE", core, 1)
        return core
        #else
        return "auto"
        #endif
    }

    /// Loads the first OpenBLAS found, or nil when none is installed.
    static func load() -> OpenBLAS? {
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let symbol = dlsym(handle, "cblas_sgemm") else { continue }
            let setThreads = dlsym(handle, "openblas_set_num_threads")
            return OpenBLAS(
                sgemmFunction: unsafeBitCast(symbol, to: SgemmFunction.self),
                setThreadsFunction: setThreads.map { unsafeBitCast($0, to: SetThreadsFunction.self) },
                path: path)
        }
        return nil
    }

    func setThreads(_ n: Int) { setThreadsFunction?(Int32(n)) }

    /// Row-major C = op(A)·op(B), the same contract as `GEMM.sgemm` with alpha 1 and beta 0.
    func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               c: UnsafeMutablePointer<Float>, ldc: Int) {
        let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112
        sgemmFunction(rowMajor, transA ? trans : noTrans, transB ? trans : noTrans,
                      Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }
}
