import Foundation

/// The process's peak resident memory in bytes (VmHWM on Linux, ru_maxrss elsewhere).
func peakResidentBytes() -> Int {
    #if os(Linux)
    return procStatusBytes("VmHWM:")
    #else
    var usage = rusage()
    getrusage(RUSAGE_SELF, &usage)
    return Int(usage.ru_maxrss)   // bytes on macOS
    #endif
}

/// The process's current resident memory in bytes (VmRSS on Linux; the peak elsewhere).
func currentResidentBytes() -> Int {
    #if os(Linux)
    return procStatusBytes("VmRSS:")
    #else
    return peakResidentBytes()
    #endif
}

/// A "Name:   N kB" line of /proc/self/status, in bytes (0 when absent).
private func procStatusBytes(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
          let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb * 1024
}

/// Starts the peak-resident count again from the current resident memory (Linux:
/// /proc/self/clear_refs, "5"; elsewhere nothing), so a later `peakResidentBytes()` measures
/// only what runs after.
func resetPeakResident() {
    if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
        try? handle.write(contentsOf: Data("5".utf8)); try? handle.close()
    }
}
