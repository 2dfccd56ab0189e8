/// A model folder, configuration or checkpoint that Lian cannot use. The message names the file,
/// the key or tensor, what is wrong and what to do.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String

    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Checks one configuration value; collects a readable error when it is wrong.
struct ConfigValidator {
    let path: String
    var problems: [String] = []

    mutating func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { problems.append(message()) }
    }

    func check() throws {
        if !problems.isEmpty {
            throw ModelError(path: path, "invalid configuration: " + problems.joined(separator: "; "))
        }
    }
}
