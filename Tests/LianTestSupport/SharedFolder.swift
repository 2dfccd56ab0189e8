import Foundation

/// Finds `../shared` (the project's reference material): `LIAN_SHARED` when set, else the folder
/// beside the package root. Returns nil, and prints why, when it is absent (a fresh clone
/// elsewhere); tests that need it then skip with that visible message.
public enum SharedFolder {
    public static func locate(file: StaticString = #filePath) -> URL? {
        if let env = ProcessInfo.processInfo.environment["LIAN_SHARED"], !env.isEmpty {
            let url = URL(fileURLWithPath: env)
            if FileManager.default.fileExists(atPath: url.path) { return url }
            print("⚠︎ LIAN_SHARED=\(env) does not exist; tests that need ../shared are skipped")
            return nil
        }
        // Tests/<Target>/<File>.swift → package root → ../shared
        let packageRoot = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        if FileManager.default.fileExists(atPath: shared.path) { return shared }
        print("⚠︎ ../shared not found beside \(packageRoot.path) and LIAN_SHARED is not set; tests that need it are skipped")
        return nil
    }

    /// Every file under `relative` (recursively) whose name ends with `suffix`, sorted.
    public static func files(under relative: String, suffix: String, in shared: URL) -> [URL] {
        let root = shared.appendingPathComponent(relative)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.lastPathComponent.hasSuffix(suffix) }.sorted { $0.path < $1.path }
    }
}
