// Templates: text with `{field}` placeholders (`{{` and `}}` for literal braces).
//
// The completion is the last placeholder and everything after it; the prompt is everything
// before it. So `### Question:\n{question}\n\n### Answer:\n{answer}` has the prompt
// `### Question:\n<question>\n\n### Answer:\n` and the completion `<answer>`.

import Tokenizer

/// A parsed template.
public struct Template: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case literal(String)
        case field(String)
    }

    /// The source text, as given.
    public let source: String
    let parts: [Part]
    /// Index in `parts` of the placeholder that starts the completion.
    let completionStart: Int

    /// The placeholders in order of appearance (a field may repeat).
    public var fields: [String] {
        var seen: [String] = []
        for case .field(let f) in parts where !seen.contains(f) { seen.append(f) }
        return seen
    }

    /// Parses `{field}` placeholders.
    /// - Throws: `TemplateError` for an unclosed or empty placeholder, a stray `}`, or no placeholder.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        var parts: [Part] = []
        var literal = ""
        var chars = Array(source)
        var i = 0
        func position(_ k: Int) -> Int { k + 1 }
        while i < chars.count {
            let c = chars[i]
            if c == "{" {
                if i + 1 < chars.count && chars[i + 1] == "{" { literal.append("{"); i += 2; continue }
                guard let close = chars[(i + 1)...].firstIndex(of: "}") else {
                    throw TemplateError(message: "unclosed '{' at character \(position(i)); write '{{' for a literal brace")
                }
                let name = String(chars[(i + 1)..<close])
                guard !name.isEmpty, !name.contains("{"), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                    throw TemplateError(message: "invalid placeholder '{\(name)}' at character \(position(i)); a placeholder is a field name such as {question}")
                }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.field(name))
                i = close + 1
            } else if c == "}" {
                if i + 1 < chars.count && chars[i + 1] == "}" { literal.append("}"); i += 2; continue }
                throw TemplateError(message: "stray '}' at character \(position(i)); write '}}' for a literal brace")
            } else {
                literal.append(c)
                i += 1
            }
        }
        chars.removeAll()
        if !literal.isEmpty { parts.append(.literal(literal)) }
        guard let last = parts.lastIndex(where: { if case .field = $0 { return true }; return false }) else {
            throw TemplateError(message: "the template has no {field} placeholder")
        }
        self.parts = parts
        self.completionStart = last
    }
}

public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The built-in templates (`--template NAME`) and format detection.
public enum TemplatePreset: String, Sendable, CaseIterable {
    case qa
    case alpaca
    case instructionResponse = "instruction-response"
    case inputOutput = "input-output"
    case promptCompletion = "prompt-completion"
    case text

    /// The course's template, exactly.
    static let qaSource = "### Question:\n{question}\n\n### Answer:\n{answer}"
    /// Stanford Alpaca's prompts (with and without an input).
    static let alpacaWithInput = "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n{output}"
    static let alpacaNoInput = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n{output}"
    static let instructionResponseSource = "### Instruction:\n{instruction}\n\n### Response:\n{response}"
    static let inputOutputSource = "### Input:\n{input}\n\n### Output:\n{output}"
    static let promptCompletionSource = "{prompt}{completion}"
    static let textSource = "{text}"

    /// The template text(s), for `--help` and the manifest.
    public var sources: [String] {
        switch self {
        case .qa: return [TemplatePreset.qaSource]
        case .alpaca: return [TemplatePreset.alpacaWithInput, TemplatePreset.alpacaNoInput]
        case .instructionResponse: return [TemplatePreset.instructionResponseSource]
        case .inputOutput: return [TemplatePreset.inputOutputSource]
        case .promptCompletion: return [TemplatePreset.promptCompletionSource]
        case .text: return [TemplatePreset.textSource]
        }
    }

    /// Detects the format from a row's fields, in the course's order: question/answer,
    /// instruction+output (Alpaca, input optional), instruction/response, input/output,
    /// prompt/completion, text.
    public static func detect(fields: [String]) -> TemplatePreset? {
        let f = Set(fields)
        if f.contains("question") && f.contains("answer") { return .qa }
        if f.contains("instruction") && f.contains("output") { return .alpaca }
        if f.contains("instruction") && f.contains("response") { return .instructionResponse }
        if f.contains("input") && f.contains("output") { return .inputOutput }
        if f.contains("prompt") && f.contains("completion") { return .promptCompletion }
        if f.contains("text") { return .text }
        return nil
    }
}

/// How rows become examples: a preset or a custom template (fields → prompt and completion),
/// or a chat template (conversations → text and assistant spans).
public struct TemplateChoice: Sendable {
    enum Kind: Sendable {
        /// `main`, and Alpaca's no-input variant for rows whose `input` is missing or empty.
        case fields(main: Template, noInput: Template?)
        case chat(ChatSetup)
    }
    let kind: Kind
    /// The name printed and written to the manifest.
    public let name: String
    /// How rows are read and rendered, for field templates (nil for chat templates).
    let fieldPlan: FieldPlan?

    public init(preset: TemplatePreset) {
        let sources = preset.sources
        let main = TemplateChoice.builtIn(sources[0]), noInput = sources.count > 1 ? TemplateChoice.builtIn(sources[1]) : nil
        kind = .fields(main: main, noInput: noInput)
        fieldPlan = FieldPlan(main: main, noInput: noInput)
        name = preset.rawValue
    }

    /// The presets are constants of this file; a parse failure is a programming error.
    private static func builtIn(_ source: String) -> Template {
        do { return try Template(source) } catch { preconditionFailure("built-in template does not parse: \(error)") }
    }

    public init(custom: Template, name: String) {
        kind = .fields(main: custom, noInput: nil)
        fieldPlan = FieldPlan(main: custom, noInput: nil)
        self.name = name
    }

    init(chat: ChatSetup) {
        kind = .chat(chat)
        fieldPlan = nil
        name = chat.name
    }

    /// The chat setup, for chat rows.
    var chat: ChatSetup? {
        if case .chat(let c) = kind { return c }
        return nil
    }

    /// Whether the whole text is the completion (plain language modelling: nothing masked).
    public var isPlainText: Bool {
        if case .fields(let main, nil) = kind { return main.completionStart == 0 }
        return false
    }

    public var sources: [String] {
        switch kind {
        case let .fields(main, noInput): return [main.source] + (noInput.map { [$0.source] } ?? [])
        case .chat(let c): return [c.source]
        }
    }
}

/// Why a row cannot be used.
public enum RowProblem: Error, Sendable, CustomStringConvertible {
    case malformed(String, column: Int?)
    case notAnObject(String)
    case missingField(String, present: [String])
    case notAString(String, String)
    /// A chat row that is malformed, or that the chat template refuses.
    case chat(String)
    case invalidUTF8(offset: Int)

    public var description: String {
        switch self {
        case .malformed(let m, _): return "malformed JSON: \(m)"
        case .notAnObject(let t): return "expected a JSON object per line, found \(t)"
        case let .missingField(f, present):
            return "missing field \"\(f)\" (the row has: \(present.isEmpty ? "no fields" : present.joined(separator: ", "))); use --template/--template-file to match your fields, or --skip-invalid"
        case let .notAString(f, t): return "field \"\(f)\" is \(t), expected a string"
        case .invalidUTF8(let offset): return "invalid UTF-8 at byte \(offset + 1) of the document"
        case .chat(let m): return m
        }
    }

    public var column: Int? { if case .malformed(_, let c) = self { return c }; return nil }
}
