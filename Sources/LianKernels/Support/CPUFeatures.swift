import Foundation

/// What the processor can do, read once. Lian is compiled for the machine it runs on
/// (`-target-cpu native`), so this only chooses between code paths the compiler already
/// emitted, such as the GEMM micro-kernel shape.
public enum CPUFeatures {
    /// AVX-512F: 32 registers of 16 floats. Read from /proc/cpuinfo on Linux; false elsewhere.
    public static let hasAVX512: Bool = {
        if let forced = ProcessInfo.processInfo.environment["LIAN_GEMM_KERNEL"] { return forced != "6x16" }
        #if os(Linux) && arch(x86_64)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        guard let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        return flagsLine.split(separator: " ").contains("avx512f")
        #else
        return false
        #endif
    }()

    /// The processor's model name, for benchmark reports.
    public static let modelName: String = {
        #if os(Linux)
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":", maxSplits: 1).last {
            return name.trimmingCharacters(in: .whitespaces)
        }
        #endif
        return "unknown processor"
    }()
}
