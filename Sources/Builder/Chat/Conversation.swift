// Chat rows: OpenAI / TRL `messages` and ShareGPT `conversations`, read into one form — the list
// of message objects the chat template sees (as transformers passes them), the row's `tools`, and
// which messages may be trained on.
//
//   {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
//    "tools": [...]}
//   {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
//
// Message objects are passed to the template unchanged (content as a string, a list of parts or
// null; `tool_calls`, `reasoning_content`, `name`, `tool_call_id`, ...), except that finetok's own
// per-message training flags (`"train": false`, `"weight": 0`, as axolotl spells them) are
// taken out. ShareGPT turns become `{"role": ..., "content": ...}` with the roles mapped below.

import Tokenizer

/// Which chat convention a row uses.
public enum ChatFormat: String, Sendable {
    /// `messages`: [{role, content, ...}] (OpenAI, TRL, transformers).
    case messages
    /// `conversations`: [{from, value}] (ShareGPT).
    case sharegpt
}

/// One chat example, ready for the template.
struct Conversation {
    /// The message objects, in order (roles already mapped for ShareGPT).
    var messages: [JSONValue]
    /// The row's `tools` (a list of tool schemas), if any.
    var tools: JSONValue?
    /// Per message: false when the row says not to train on it.
    var trainable: [Bool]
    var format: ChatFormat

    /// The role of message `i` ("" when it has none).
    func role(_ i: Int) -> String { messages[i]["role"]?.stringValue ?? "" }

    /// ShareGPT's speaker names → roles.
    static let shareGPTRoles: [String: String] = [
        "human": "user", "user": "user",
        "gpt": "assistant", "assistant": "assistant", "model": "assistant", "chatgpt": "assistant",
        "bing": "assistant", "bard": "assistant",
        "system": "system",
        "tool": "tool", "function": "tool", "function_response": "tool", "observation": "tool", "ipython": "tool",
    ]

    /// The chat format of a row with these fields, if it is a chat row.
    static func format(fields: [String]) -> ChatFormat? {
        if fields.contains("messages") { return .messages }
        if fields.contains("conversations") { return .sharegpt }
        return nil
    }

    /// Reads a chat row.
    /// - Throws: `RowProblem.chat` naming the message and field that is wrong and what was expected.
    init(row: [(String, JSONValue)], format: ChatFormat) throws(RowProblem) {
        func lookup(_ key: String) -> JSONValue? { row.last(where: { $0.0 == key })?.1 }
        self.format = format
        let field = format == .messages ? "messages" : "conversations"
        guard let list = lookup(field) else {
            throw .missingField(field, present: row.map(\.0))
        }
        guard case .array(let items) = list else {
            throw .chat("\"\(field)\" is \(list.typeDescription), expected a list of \(format == .messages ? "{\"role\", \"content\"}" : "{\"from\", \"value\"}") objects")
        }
        guard !items.isEmpty else { throw .chat("\"\(field)\" is an empty list; a conversation needs at least one message") }
        var messages: [JSONValue] = []
        var trainable: [Bool] = []
        messages.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let at = "\(field)[\(i)]"
            guard case .object(let members) = item else {
                throw .chat("\(at) is \(item.typeDescription), expected an object")
            }
            let train = try Conversation.trainFlag(members, at: at)
            trainable.append(train)
            let kept = members.filter { $0.0 != "train" && $0.0 != "weight" }
            switch format {
            case .messages:
                guard let role = item["role"] else {
                    throw .chat("\(at) has no \"role\" (it has: \(members.map(\.0).joined(separator: ", ")))")
                }
                guard case .string = role else { throw .chat("\(at).role is \(role.typeDescription), expected a string such as \"user\"") }
                if let content = item["content"] {
                    switch content {
                    case .string, .array, .null: break
                    default: throw .chat("\(at).content is \(content.typeDescription), expected a string, a list of parts or null")
                    }
                }
                messages.append(.object(kept))
            case .sharegpt:
                guard let from = item["from"]?.stringValue else {
                    throw .chat("\(at) has no string \"from\" (the speaker: human, gpt, system or tool)")
                }
                guard let role = Conversation.shareGPTRoles[from.lowercased()] else {
                    throw .chat("\(at).from is \(JSON.quoted(from)); expected one of human, gpt, system, tool (or user, assistant, model, function, observation)")
                }
                guard let value = item["value"] else { throw .chat("\(at) has no \"value\" (the text of the turn)") }
                guard case .string = value else { throw .chat("\(at).value is \(value.typeDescription), expected a string") }
                var converted: [(String, JSONValue)] = [("role", .string(role)), ("content", value)]
                // Anything else on the turn (a name, a tool call id) goes along, after role and content.
                converted += kept.filter { $0.0 != "from" && $0.0 != "value" }
                messages.append(.object(converted))
            }
        }
        self.messages = messages
        self.trainable = trainable
        if let tools = lookup("tools"), !tools.isNull {
            guard case .array = tools else { throw .chat("\"tools\" is \(tools.typeDescription), expected a list of tool schemas") }
            self.tools = tools
        } else {
            self.tools = nil
        }
    }

    /// `"train": false` or `"weight": 0` on a message (axolotl's per-message flags).
    private static func trainFlag(_ members: [(String, JSONValue)], at: String) throws(RowProblem) -> Bool {
        var train = true
        for (key, value) in members {
            switch key {
            case "train":
                guard case .bool(let b) = value else { throw .chat("\(at).train is \(value.typeDescription), expected true or false") }
                train = b
            case "weight":
                guard case .number(let w, _) = value, w == 0 || w == 1 else {
                    throw .chat("\(at).weight is \(value.typeDescription == "a number" ? "not 0 or 1" : value.typeDescription), expected 0 (do not train) or 1")
                }
                train = w != 0
            default: continue
            }
        }
        return train
    }
}
