// What a chat build is told (`--chat-template`, `--template-kwargs`, `--train-on`,
// `--content-specials`) and what it resolves to: a compiled template and the variables it sees,
// as transformers' `apply_chat_template` passes them — the tokenizer's special tokens
// (`bos_token`, `eos_token`, `unk_token`, `pad_token`), overridden by the extra keyword
// arguments — with `strftime_now` reading SOURCE_DATE_EPOCH when it is set.

import Foundation
import Jinja
import Tokenizer

/// Where the chat template comes from.
public enum ChatTemplateSource: Sendable {
    /// The vocabulary's own (its model folder's `chat_template`): the one named `default`, or the
    /// only one.
    case vocabulary
    /// One of the model folder's named templates (`tool_use`, `rag`, ...).
    case named(String)
    /// A template shipped with finetok (`chatml`, ...).
    case bundled(BundledChatTemplate)
    /// A template file's text.
    case text(String, path: String)
}

/// How special-token strings inside message data are encoded (`--content-specials`).
public enum ContentSpecials: String, Sendable, CaseIterable {
    /// As HF tokenizes the rendered text: `<|im_end|>` typed by a user becomes the control token.
    case special
    /// As plain text: only the template's own text yields added tokens.
    case text
}

/// The chat options of `build`, `lengths` and `render`.
public struct ChatOptions: Sendable {
    public var template: ChatTemplateSource = .vocabulary
    /// `--template-kwargs`: extra template variables, overriding the special tokens.
    public var kwargs: [(String, JSONValue)] = []
    public var trainOn: TrainOn = .assistant
    public var contentSpecials: ContentSpecials = .special
    /// `--eos`: append the end-of-text token to chat examples (the template ends turns itself).
    public var appendEOS = false

    public init() {}

    /// Parses `--template-kwargs`: a JSON object.
    public static func parseKwargs(_ text: String) throws -> [(String, JSONValue)] {
        let value: JSONValue
        do { value = try JSON.parse(text) } catch {
            throw BuildError.usage("--template-kwargs is not valid JSON (\(error.message) at character \(error.offset + 1)); pass an object such as '{\"enable_thinking\": false}'")
        }
        guard case .object(let members) = value else {
            throw BuildError.usage("--template-kwargs must be a JSON object such as '{\"enable_thinking\": false}', not \(value.typeDescription)")
        }
        return members
    }
}

/// A resolved chat setup, shared by the worker threads.
struct ChatSetup: Sendable {
    let template: ChatTemplate
    /// Printed and written to the manifest: a file path, a bundled name, or `vocabulary:NAME`.
    let name: String
    let source: String
    let variables: [String: JSONValue]
    let trainOn: TrainOn
    let contentSpecials: ContentSpecials
    let clock: JinjaClock
    /// SOURCE_DATE_EPOCH when set (recorded in the manifest).
    let sourceDateEpoch: Int64?

    /// Compiles the template and gathers the variables.
    /// - Throws: `BuildError.usage` when there is no template, `.input` for a template that does
    ///   not compile (its file, line and column).
    /// - Parameters:
    ///   - sourceDateEpoch: the clock a shard recorded (a merge), instead of the environment's.
    ///   - name: the name a shard recorded for the template.
    init(_ options: ChatOptions, tokenizer: Tokenizer, sourceDateEpoch: Int64?? = nil, name recordedName: String? = nil) throws {
        let source: String, name: String
        let config = tokenizer.config
        let templates = config?.chatTemplates ?? []
        switch options.template {
        case .vocabulary:
            guard let t = templates.first(where: { $0.name == "default" }) ?? (templates.count == 1 ? templates.first : nil) else {
                let named = templates.map(\.name)
                throw BuildError.usage(named.isEmpty
                    ? "these rows are chat conversations, and the vocabulary (\(tokenizer.paths.first ?? "?")) has no chat template: pass --chat-template FILE, or a bundled one (\(BundledChatTemplate.allCases.map(\.rawValue).joined(separator: ", ")))"
                    : "the vocabulary's chat templates are named \(named.joined(separator: ", ")) and none is \"default\": pass --chat-template NAME")
            }
            source = t.source
            name = t.name == "default" ? "vocabulary" : "vocabulary:\(t.name)"
        case .named(let wanted):
            guard let t = templates.first(where: { $0.name == wanted }) else {
                throw BuildError.usage("--chat-template \(wanted): not a file, not a bundled template (\(BundledChatTemplate.allCases.map(\.rawValue).joined(separator: ", "))), and not one of the vocabulary's (\(templates.isEmpty ? "it has none" : templates.map(\.name).joined(separator: ", ")))")
            }
            source = t.source
            name = "vocabulary:\(t.name)"
        case .bundled(let b):
            source = b.source
            name = b.rawValue
        case let .text(text, path):
            source = text
            name = path
        }
        do {
            template = try ChatTemplate(source: source, name: recordedName ?? name)
        } catch {
            throw BuildError.input("chat template \(error)")
        }
        self.source = source
        self.name = recordedName ?? name
        var variables: [String: JSONValue] = [:]
        if let config {
            for (key, value) in [("bos_token", config.bosToken), ("eos_token", config.eosToken),
                                 ("unk_token", config.unkToken), ("pad_token", config.padToken)] {
                if let value { variables[key] = .string(value) }
            }
        }
        for (key, value) in options.kwargs { variables[key] = value }
        self.variables = variables
        trainOn = options.trainOn
        contentSpecials = options.contentSpecials
        let clock = sourceDateEpoch.map { $0.map(JinjaClock.fixed) ?? .now } ?? JinjaClock.fromEnvironment()
        self.clock = clock
        self.sourceDateEpoch = clock.epochSeconds
    }
}
