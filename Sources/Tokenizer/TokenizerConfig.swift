// A model folder's `tokenizer_config.json` (and `special_tokens_map.json`, `chat_template.jinja`):
// what transformers' `AutoTokenizer` knows beyond the tokenizer file — the named special tokens,
// whether a plain text gets BOS / EOS, the chat template, the maximum length.
//
// Read as transformers 5 reads them: a token is a string or an object with "content";
// special_tokens_map.json is read only when tokenizer_config.json has no
// "added_tokens_decoder", and then its values win; chat_template.jinja replaces the config's
// "chat_template". With "add_bos_token" / "add_eos_token" in the config, transformers rebuilds
// the post-processor from them (BOS / EOS around every text); without, the tokenizer.json
// post-processor stays.

import Foundation

/// The settings of a model folder that transformers reads beside the tokenizer file.
public struct TokenizerConfig: Sendable, Equatable {
    /// A named chat template ("default" when the folder has one).
    public struct ChatTemplate: Sendable, Equatable {
        public var name: String
        public var source: String
    }

    public var bosToken: String?
    public var eosToken: String?
    public var padToken: String?
    public var unkToken: String?
    /// Whether the config names the key at all (`pad_token: null` differs from no key).
    public var hasPadTokenKey = false
    public var addBosToken: Bool?
    public var addEosToken: Bool?
    public var chatTemplates: [ChatTemplate] = []
    /// nil when unset or effectively unlimited (transformers writes 1e30).
    public var modelMaxLength: Int?
    public var tokenizerClass: String?
    /// The files read, in order.
    public var files: [String] = []

    /// Reads the configuration files of `folder`; nil when it has none.
    /// - Throws: `TokenizerError` naming the file and line of malformed JSON or a wrong type.
    public static func load(folder: String) throws(TokenizerError) -> TokenizerConfig? {
        let dir = URL(fileURLWithPath: folder)
        let fm = FileManager.default
        let configPath = dir.appendingPathComponent("tokenizer_config.json").path
        let mapPath = dir.appendingPathComponent("special_tokens_map.json").path
        let jinjaPath = dir.appendingPathComponent("chat_template.jinja").path
        var config = TokenizerConfig()
        var found = false
        var hasAddedTokensDecoder = false
        if fm.fileExists(atPath: configPath) {
            found = true
            config.files.append(configPath)
            let root = try Tokenizer.parseJSON(try Tokenizer.readFile(configPath), path: configPath)
            guard case .object = root else {
                throw .invalidContent(path: configPath, location: "", message: "expected a JSON object, found \(root.typeDescription)")
            }
            hasAddedTokensDecoder = root["added_tokens_decoder"] != nil
            try config.readTokens(root, path: configPath)
            for (key, target) in [("add_bos_token", \TokenizerConfig.addBosToken), ("add_eos_token", \TokenizerConfig.addEosToken)] {
                guard let v = root[key], !v.isNull else { continue }
                guard let b = v.boolValue else {
                    throw .invalidContent(path: configPath, location: key, message: "expected true or false, found \(v.typeDescription)")
                }
                config[keyPath: target] = b
            }
            if let v = root["model_max_length"], case .number(let d, _) = v, d >= 1, d < 1e15 { config.modelMaxLength = Int(d) }
            config.tokenizerClass = root["tokenizer_class"]?.stringValue
            switch root["chat_template"] {
            case .string(let s)?:
                config.chatTemplates = [ChatTemplate(name: "default", source: s)]
            case .array(let list)?:
                for (i, item) in list.enumerated() {
                    guard let name = item["name"]?.stringValue, let source = item["template"]?.stringValue else {
                        throw .invalidContent(path: configPath, location: "chat_template[\(i)]", message: "expected {\"name\": ..., \"template\": ...}")
                    }
                    config.chatTemplates.append(ChatTemplate(name: name, source: source))
                }
            case nil, .null?:
                break
            case let other?:
                throw .invalidContent(path: configPath, location: "chat_template", message: "expected a string or a list of named templates, found \(other.typeDescription)")
            }
        }
        if !hasAddedTokensDecoder && fm.fileExists(atPath: mapPath) {
            found = true
            config.files.append(mapPath)
            let root = try Tokenizer.parseJSON(try Tokenizer.readFile(mapPath), path: mapPath)
            try config.readTokens(root, path: mapPath)
        }
        if fm.fileExists(atPath: jinjaPath) {
            found = true
            config.files.append(jinjaPath)
            let bytes = try Tokenizer.readFile(jinjaPath)
            guard let source = String(validating: bytes, as: UTF8.self) else {
                throw .invalidContent(path: jinjaPath, location: "", message: "not valid UTF-8 text")
            }
            config.chatTemplates.removeAll { $0.name == "default" }
            config.chatTemplates.insert(ChatTemplate(name: "default", source: source), at: 0)
        }
        return found ? config : nil
    }

    /// `bos_token`, `eos_token`, `pad_token`, `unk_token`: a string, `{"content": ...}` or null.
    private mutating func readTokens(_ root: JSONValue, path: String) throws(TokenizerError) {
        for key in ["bos_token", "eos_token", "pad_token", "unk_token"] {
            guard let v = root[key] else { continue }
            let content: String?
            switch v {
            case .null: content = nil
            case .string(let s): content = s
            case .object:
                guard let s = v["content"]?.stringValue else {
                    throw .invalidContent(path: path, location: key, message: "expected a string or {\"content\": \"...\"}")
                }
                content = s
            default:
                throw .invalidContent(path: path, location: key, message: "expected a string, {\"content\": ...} or null, found \(v.typeDescription)")
            }
            switch key {
            case "bos_token": bosToken = content
            case "eos_token": eosToken = content
            case "pad_token": padToken = content; hasPadTokenKey = true
            default: unkToken = content
            }
        }
    }
}
