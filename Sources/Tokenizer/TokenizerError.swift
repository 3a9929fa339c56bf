// Errors a user can cause by what they load or ask for. Each carries the data a message needs:
// the file, the line or byte offset, what was expected, and how to fix it.

/// An error loading a tokenizer or encoding/decoding with it.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file could not be read.
    case unreadable(path: String, reason: String)
    /// A JSON file is malformed at a line and column.
    case malformedJSON(path: String, line: Int, column: Int, message: String)
    /// A file is well-formed but its content is wrong at `location` (a line, or a JSON path).
    case invalidContent(path: String, location: String, message: String)
    /// A tokenizer.json component finetok does not implement (refused rather than approximated).
    case unsupported(path: String, jsonPath: String, message: String)
    /// The kind of tokenizer cannot be told from the path.
    case unknownFormat(path: String, message: String)
    /// An id that is not in the vocabulary.
    case unknownId(Int, vocabularySize: Int)
    /// A bad option value (`--encoding`, `--pattern`, ...).
    case badOption(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .malformedJSON(path, line, column, message): return "\(path):\(line):\(column): malformed JSON: \(message)"
        case let .invalidContent(path, location, message):
            return location.isEmpty ? "\(path): \(message)" : "\(path):\(location): \(message)"
        case let .unsupported(path, jsonPath, message): return "\(path): \(jsonPath): \(message)"
        case let .unknownFormat(path, message): return "\(path): \(message)"
        case let .unknownId(id, size):
            return "unknown token id \(id): the vocabulary has ids 0..<\(size) (check that the ids come from the same tokenizer)"
        case let .badOption(message): return message
        }
    }
}
