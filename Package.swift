// swift-tools-version: 6.0
import PackageDescription

// Lian's kernels are plain Swift on SIMD vectors. Without a CPU target flag the compiler lowers
// `SIMD8<Float>.addingProduct` to scalar `fmaf` calls (~170× slower), so every target that holds
// numeric loops is built for the machine it runs on. `-O` is given here too so that the kernels are
// optimized even in a debug build (which keeps `swift test` fast). `unsafeFlags` are accepted in a
// root package only, so `LIAN_PORTABLE=1` leaves them out for a package that depends on Lian
// (it then passes `-Xswiftc -target-cpu -Xswiftc native` itself; see README).
import Foundation
let portable = ProcessInfo.processInfo.environment["LIAN_PORTABLE"] == "1"
let nativeCodegen: [SwiftSetting] = portable ? [] : [
    .unsafeFlags(["-target-cpu", "native"]),
]
let optimizedNativeCodegen: [SwiftSetting] = portable ? [] : [
    .unsafeFlags(["-O", "-target-cpu", "native"]),
]

let package = Package(
    name: "Lian",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LianKernels", targets: ["LianKernels"]),
        .library(name: "LianTensor", targets: ["LianTensor"]),
        .library(name: "LianTokenizer", targets: ["LianTokenizer"]),
        .library(name: "LianData", targets: ["LianData"]),
        .library(name: "LianNN", targets: ["LianNN"]),
        .library(name: "LianTraining", targets: ["LianTraining"]),
        .library(name: "LianGeneration", targets: ["LianGeneration"]),
        .library(name: "LianOptim", targets: ["LianOptim"]),
        .executable(name: "lian", targets: ["lian"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "LianKernelsC"),
        .target(name: "LianKernels", dependencies: ["LianKernelsC"], swiftSettings: optimizedNativeCodegen),
        .target(name: "LianTensor", dependencies: ["LianKernels"], swiftSettings: optimizedNativeCodegen),
        .target(name: "LianTokenizer", swiftSettings: optimizedNativeCodegen),
        .target(name: "LianData", dependencies: ["LianKernels", "LianTokenizer"], swiftSettings: optimizedNativeCodegen),
        .target(name: "LianNN", dependencies: ["LianTensor"], swiftSettings: optimizedNativeCodegen),
        .target(name: "LianOptim", dependencies: ["LianNN"], swiftSettings: optimizedNativeCodegen),
        .target(name: "LianGeneration", dependencies: ["LianNN", "LianTokenizer"], swiftSettings: optimizedNativeCodegen),
        .target(name: "LianTraining", dependencies: ["LianNN", "LianOptim", "LianData", "LianTokenizer"], swiftSettings: optimizedNativeCodegen),
        .target(
            name: "LianCLI",
            dependencies: [
                "LianKernels", "LianTensor", "LianNN", "LianOptim", "LianTokenizer", "LianData", "LianTraining", "LianGeneration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: nativeCodegen
        ),
        .executableTarget(name: "lian", dependencies: ["LianCLI"], swiftSettings: nativeCodegen),

        .target(name: "LianTestSupport", dependencies: ["LianTensor"], path: "Tests/LianTestSupport"),
        .testTarget(name: "LianKernelsTests", dependencies: ["LianKernels", "LianTestSupport"], swiftSettings: nativeCodegen),
        .testTarget(name: "LianTensorTests", dependencies: ["LianTensor", "LianTestSupport"], swiftSettings: nativeCodegen),
        .testTarget(name: "LianTokenizerTests", dependencies: ["LianTokenizer", "LianTestSupport"], swiftSettings: nativeCodegen),
        .testTarget(name: "LianDataTests", dependencies: ["LianData", "LianTestSupport"], swiftSettings: nativeCodegen),
        .testTarget(name: "LianGenerationTests", dependencies: ["LianGeneration", "LianTestSupport", "LianTensor"], swiftSettings: nativeCodegen),
        .testTarget(name: "LianTrainingTests", dependencies: ["LianTraining", "LianTestSupport"], swiftSettings: nativeCodegen),
        .testTarget(name: "LianNNTests", dependencies: ["LianNN", "LianOptim", "LianTestSupport"], swiftSettings: nativeCodegen),
    ]
)
