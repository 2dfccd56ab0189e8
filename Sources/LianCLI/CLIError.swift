/// A failure while a command runs (a file that cannot be read, a malformed input): printed as
/// "Error: <message>" without the usage text that argument mistakes get.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
