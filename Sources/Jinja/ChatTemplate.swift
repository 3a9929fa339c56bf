// ChatTemplate: a model's chat template, rendered as transformers'
// `render_jinja_template(conversations=[messages], tools=..., documents=..., chat_template=...,
// add_generation_prompt=..., **kwargs)` renders it (what `apply_chat_template(...,
// tokenize=False)` returns), byte for byte.
//
// What transformers does before rendering, done here the same way:
// - `messages` must be a list of dicts; each message's reasoning is aliased
//   (`_alias_reasoning_fields`): the first non-null of `reasoning_content`, `thinking`,
//   `reasoning` becomes `reasoning_content` (in place, or appended) and `thinking` (first key);
// - `tools` (a list of dicts) and `documents` (a list of dicts) are passed as they are, or None;
// - the template sees `messages`, `tools`, `documents`, `add_generation_prompt` and the extra
//   variables (`bos_token`, `eos_token`, `enable_thinking`, ...).
// `apply_chat_template` additionally drops message keys whose value is null
// (`_normalize_chat_messages`) and passes the tokenizer's special tokens as variables; set
// `Options.dropNullValues` and pass the special tokens in `variables` to do the same.

import Tokenizer

/// A compiled chat template.
public struct ChatTemplate: Sendable {
    public let template: JinjaTemplate

    public struct Options: Sendable, Equatable {
        /// Drop message keys whose value is null, as `apply_chat_template` does before rendering
        /// (`render_jinja_template`, which the golden fixtures use, keeps them).
        public var dropNullValues: Bool = false
        public init(dropNullValues: Bool = false) { self.dropNullValues = dropNullValues }
    }

    /// Parses and compiles the template once.
    /// - Throws: `JinjaError` of kind `.syntax` naming `name`, the line, the column and what was expected.
    public init(source: String, name: String, limits: JinjaLimits = .default) throws(JinjaError) {
        template = try JinjaTemplate(source: source, name: name, limits: limits)
    }

    public var name: String { template.name }

    /// Whether the template marks assistant output with `{% generation %}` blocks.
    public var usesGenerationBlocks: Bool { template.usesGenerationBlocks }

    /// transformers' `render_jinja_template` for one conversation.
    /// - Parameters:
    ///   - messages: a JSON array of message objects.
    ///   - tools: a JSON array of tool schemas, or nil.
    ///   - documents: a JSON array of document objects, or nil.
    ///   - variables: extra template variables (`bos_token`, `eos_token`, `date_string`,
    ///     `enable_thinking`, ...). Their strings are template-side text for provenance; strings
    ///     in messages, tools and documents are data.
    ///   - clock: what `strftime_now` reads (default: SOURCE_DATE_EPOCH if set, else now).
    /// - Throws: `JinjaError`: the template's own `raise_exception` (kind `.raised`), a Python
    ///   error jinja2 would raise (`.evaluation`), a sandbox limit (`.limit`), or a malformed input.
    /// - Complexity: linear in the work the template does, bounded by `limits`.
    public func render(messages: JSONValue, tools: JSONValue? = nil, documents: JSONValue? = nil,
                       addGenerationPrompt: Bool, variables: [String: JSONValue] = [:],
                       options: Options = Options(), limits: JinjaLimits = .default,
                       clock: JinjaClock = .fromEnvironment()) throws(JinjaError) -> ChatRendering {
        let input = try Input(messages: messages, tools: tools, documents: documents, variables: variables,
                              options: options, limits: limits, referenced: template.program.referencedNames)
        return try render(input, messageCount: input.messages.count, addGenerationPrompt: addGenerationPrompt,
                          limits: limits, clock: clock)
    }

    /// A conversation converted once, to render it and its prefixes many times (the span rules
    /// render `messages[:i]` for several i).
    public struct Prepared: Sendable {
        let input: Input
        /// How many messages the conversation has.
        public var messageCount: Int { input.messages.count }
    }

    /// Converts a conversation for `render(_:messageCount:addGenerationPrompt:)`, doing
    /// transformers' preprocessing once (the same checks and errors as `render(messages:...)`).
    public func prepare(messages: JSONValue, tools: JSONValue? = nil, documents: JSONValue? = nil,
                        variables: [String: JSONValue] = [:], options: Options = Options(),
                        limits: JinjaLimits = .default) throws(JinjaError) -> Prepared {
        Prepared(input: try Input(messages: messages, tools: tools, documents: documents, variables: variables,
                                  options: options, limits: limits, referenced: template.program.referencedNames))
    }

    /// Renders the first `messageCount` messages of a prepared conversation.
    public func render(_ chat: Prepared, messageCount: Int, addGenerationPrompt: Bool, limits: JinjaLimits = .default,
                       clock: JinjaClock = .fromEnvironment()) throws(JinjaError) -> ChatRendering {
        try render(chat.input, messageCount: min(max(0, messageCount), chat.input.messages.count),
                   addGenerationPrompt: addGenerationPrompt, limits: limits, clock: clock)
    }

    /// The assistant turns' byte spans by the prefix rule: for each assistant message i, start =
    /// UTF-8 length of the render of `messages[:i]` with the generation prompt, end = length of
    /// the render of `messages[:i+1]` without it; nil when a prefix render fails or is not a
    /// prefix of the full render (as `make_chat_fixtures.py` computes `spans`).
    /// - Parameter full: the full render (without generation prompt) if already done.
    /// - Throws: when the full render itself fails.
    /// - Complexity: 2 renders per assistant message (the conversation is converted once).
    public func assistantSpansByPrefixRule(messages: JSONValue, tools: JSONValue? = nil, documents: JSONValue? = nil,
                                           variables: [String: JSONValue] = [:], options: Options = Options(),
                                           limits: JinjaLimits = .default, clock: JinjaClock = .fromEnvironment(),
                                           full: ChatRendering? = nil) throws(JinjaError) -> [Range<Int>]? {
        let input = try Input(messages: messages, tools: tools, documents: documents, variables: variables,
                              options: options, limits: limits, referenced: template.program.referencedNames)
        let text: ChatRendering
        if let full {
            text = full
        } else {
            text = try render(input, messageCount: input.messages.count, addGenerationPrompt: false, limits: limits, clock: clock)
        }
        var spans: [Range<Int>] = []
        for (i, isAssistant) in input.isAssistant.enumerated() where isAssistant {
            let head: ChatRendering, upto: ChatRendering
            do {
                head = try render(input, messageCount: i, addGenerationPrompt: true, limits: limits, clock: clock)
                upto = try render(input, messageCount: i + 1, addGenerationPrompt: false, limits: limits, clock: clock)
            } catch {
                return nil
            }
            guard text.utf8.starts(with: head.utf8), text.utf8.starts(with: upto.utf8), upto.utf8.count >= head.utf8.count else {
                return nil
            }
            spans.append(head.utf8.count..<upto.utf8.count)
        }
        return spans
    }

    /// A conversation converted to template values once (transformers' preprocessing done). Inputs
    /// the template never names are checked but not converted (nothing could observe them).
    struct Input: Sendable {
        var messages: [Value]
        var isAssistant: [Bool]
        var tools: Value
        var documents: Value
        var variables: [String: Value]

        init(messages: JSONValue, tools: JSONValue?, documents: JSONValue?, variables: [String: JSONValue],
             options: Options, limits: JinjaLimits, referenced: Set<String>) throws(JinjaError) {
            guard case .array(let list) = messages else {
                throw JinjaError.typeError("messages must be a JSON array of message objects, not \(messages.typeDescription)")
            }
            self.messages = []
            self.messages.reserveCapacity(list.count)
            isAssistant = []
            isAssistant.reserveCapacity(list.count)
            for m in list {
                guard case .object(var members) = m else {
                    let shown = (try? ValueConversion.value(m, isData: false, limits: limits)).map { PyRepr.repr($0) } ?? m.typeDescription
                    throw JinjaError.typeError("Chat messages should be dicts, dataclasses or pydantic models, but got \(shown).")
                }
                if options.dropNullValues { members = members.filter { !$0.1.isNull } }
                guard case .dict(let d) = try ValueConversion.value(.object(members), isData: true, limits: limits) else { continue }
                self.messages.append(.dict(try ChatTemplate.aliasReasoning(d)))
                isAssistant.append(m["role"] == .string("assistant"))
            }
            self.tools = .none
            if let tools, !tools.isNull {
                guard case .array(let ts) = tools, ts.allSatisfy({ $0.objectValue != nil }) else {
                    throw JinjaError.valueError("Tools should either be a JSON schema, or a callable function with type hints and a docstring suitable for auto-conversion to a schema.")
                }
                if referenced.contains("tools") { self.tools = try ValueConversion.value(tools, isData: true, limits: limits) }
            }
            self.documents = .none
            if let documents, !documents.isNull {
                guard case .array(let ds) = documents, ds.allSatisfy({ $0.objectValue != nil }) else {
                    throw JinjaError.typeError("Documents should be a list of dicts with 'title' and 'text' keys!")
                }
                if referenced.contains("documents") { self.documents = try ValueConversion.value(documents, isData: true, limits: limits) }
            }
            self.variables = [:]
            for (k, v) in variables {
                if ["messages", "tools", "documents", "add_generation_prompt"].contains(k) {
                    throw JinjaError.typeError("render() got multiple values for keyword argument '\(k)'")
                }
                if referenced.contains(k) { self.variables[k] = try ValueConversion.value(v, isData: false, limits: limits) }
            }
        }
    }

    func render(_ input: Input, messageCount: Int, addGenerationPrompt: Bool, limits: JinjaLimits,
                clock: JinjaClock) throws(JinjaError) -> ChatRendering {
        var context = input.variables
        let chat = messageCount == input.messages.count ? input.messages : Array(input.messages[..<messageCount])
        context["messages"] = .list(PyList(chat))
        context["tools"] = input.tools
        context["documents"] = input.documents
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        return try template.render(context: context, limits: limits, clock: clock)
    }

    static let reasoningFields: [[UInt8]] = ["reasoning_content", "thinking", "reasoning"].map { Array($0.utf8) }

    /// transformers' `_alias_reasoning_fields` for one message:
    /// `{"thinking": r, **message, "reasoning_content": r}` when it has reasoning `r`.
    static func aliasReasoning(_ d: PyDict) throws(JinjaError) -> PyDict {
        var reasoning: Value? = nil
        for f in reasoningFields {
            if let v = d.get(string: f), !v.isNone {
                reasoning = v
                break
            }
        }
        guard let r = reasoning else { return d }
        var pairs: [(Value, Value)] = [(.str("thinking"), r)]
        for (k, v) in zip(d.keys, d.values) { pairs.append((k, v)) }
        pairs.append((.str("reasoning_content"), r))
        return try PyDict(pairs: pairs)
    }
}
