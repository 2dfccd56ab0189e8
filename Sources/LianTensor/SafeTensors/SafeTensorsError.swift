/// Why a safetensors file could not be read or written. Every case names the file.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        case cannotOpen
        case truncatedHeader
        case headerLengthOutOfRange
        case headerNotJSON
        case badEntry
        case unknownDType
        case offsetsOutOfRange
        case sizeMismatch
        case overlapping
        case missingTensor
        case wrongDType
        case cannotWrite
    }

    public let kind: Kind
    public let path: String
    public let detail: String

    public init(_ kind: Kind, path: String, _ detail: String) {
        self.kind = kind; self.path = path; self.detail = detail
    }

    public var description: String { "\(path): \(detail)" }
}
