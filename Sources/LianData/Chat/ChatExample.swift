import Foundation

/// One message of a conversation.
public struct ChatMessage: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable { case system, user, assistant }
    public var role: Role
    public var content: String
    public init(_ role: Role, _ content: String) { self.role = role; self.content = content }
}

/// One fine-tuning example: a conversation whose assistant turns are what the model learns.
/// Read from JSONL lines of either form:
///   {"messages": [{"role": "system|user|assistant", "content": "..."}, ...]}
///   {"instruction": "...", "input": "..." (optional), "output": "..."}
public struct ChatExample: Equatable, Sendable {
    public var messages: [ChatMessage]
    /// Where it came from (file:line), for error messages and reports.
    public var source: String

    public init(messages: [ChatMessage], source: String = "") { self.messages = messages; self.source = source }

    /// Every example in a JSONL file; a bad line throws an error naming the file and line.
    public static func read(_ url: URL) throws -> [ChatExample] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DataError(path: url.path, "cannot read as UTF-8 text (\(error.localizedDescription))")
        }
        var examples: [ChatExample] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let place = "\(url.path):\(index + 1)"
            guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
                throw DataError(path: place, "is not a JSON object")
            }
            examples.append(try parse(object, source: place))
        }
        guard !examples.isEmpty else { throw DataError(path: url.path, "holds no examples") }
        return examples
    }

    static func parse(_ o: [String: Any], source: String) throws -> ChatExample {
        if let list = o["messages"] as? [[String: Any]] {
            var messages: [ChatMessage] = []
            for (i, m) in list.enumerated() {
                guard let roleName = m["role"] as? String, let content = m["content"] as? String else {
                    throw DataError(path: source, "message \(i + 1) needs string 'role' and 'content'")
                }
                guard let role = ChatMessage.Role(rawValue: roleName) else {
                    throw DataError(path: source, "message \(i + 1) has role '\(roleName)'; use system, user or assistant")
                }
                messages.append(ChatMessage(role, content))
            }
            guard messages.contains(where: { $0.role == .assistant }) else {
                throw DataError(path: source, "has no assistant message: there is nothing to learn from it")
            }
            return ChatExample(messages: messages, source: source)
        }
        if let instruction = o["instruction"] as? String, let output = o["output"] as? String {
            let input = (o["input"] as? String) ?? ""
            var messages: [ChatMessage] = []
            if let system = o["system"] as? String, !system.isEmpty { messages.append(ChatMessage(.system, system)) }
            messages.append(ChatMessage(.user, input.isEmpty ? instruction : instruction + "\n\n" + input))
            messages.append(ChatMessage(.assistant, output))
            return ChatExample(messages: messages, source: source)
        }
        throw DataError(path: source, "needs either 'messages' or 'instruction' and 'output' (keys found: \(o.keys.sorted().joined(separator: ", ")))")
    }
}
