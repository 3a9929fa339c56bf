// JinjaTemplate: one compiled Jinja template (lexer → parser → compiler, once), rendered any number of
// times with a context. The environment is transformers' chat-template environment:
// ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols,
// generation]) with its `tojson`, `raise_exception`, `strftime_now`, `dict` and `namespace`.

import Tokenizer

/// A rendered template: UTF-8 text, where `{% generation %}` blocks rendered, and which bytes came
/// from data (see `PyString.swift` on provenance).
public struct ChatRendering: Sendable, Equatable {
    /// The rendered text as UTF-8.
    public var utf8: [UInt8]
    /// UTF-8 byte ranges of the output of `{% generation %}` blocks, in order (transformers'
    /// `return_assistant_tokens_mask` character offsets, converted to bytes).
    public var generationSpans: [Range<Int>]
    /// UTF-8 byte ranges of the output that came from data strings (sorted, disjoint).
    public var dataSpans: [Range<Int>]

    public var text: String { String(decoding: utf8, as: UTF8.self) }
}

/// A compiled template, for rendering with an arbitrary context.
public struct JinjaTemplate: Sendable {
    let program: Program

    /// Parses and compiles `source`.
    /// - Parameter name: used in error messages.
    /// - Throws: `JinjaError` of kind `.syntax` (with line and column) or `.limit` (nesting too deep).
    /// - Complexity: O(source length).
    public init(source: String, name: String, limits: JinjaLimits = .default) throws(JinjaError) {
        let parsed: (body: [Stmt], source: [UInt8])
        do {
            parsed = try Parser.parse(source, maxDepth: limits.maxNestingDepth)
        } catch {
            throw JinjaTemplate.locate(error, name: name, source: Lexer.normalize(source))
        }
        do {
            program = try Compiler.compile(parsed.body, source: parsed.source, name: name)
        } catch {
            throw JinjaTemplate.locate(error, name: name, source: parsed.source)
        }
    }

    public var name: String { program.name }

    /// Whether the template has `{% generation %}` blocks.
    public var usesGenerationBlocks: Bool { program.usesGeneration }

    /// Renders with `data` (strings in it count as data for provenance) and `variables` (plain
    /// template-side values such as `bos_token`); a name in both takes the `variables` value.
    /// - Throws: `JinjaError` (kind `.evaluation`, `.raised` or `.limit`) naming the line.
    public func render(data: [String: JSONValue] = [:], variables: [String: JSONValue] = [:],
                       limits: JinjaLimits = .default, clock: JinjaClock = .fromEnvironment()) throws(JinjaError) -> ChatRendering {
        var context: [String: Value] = [:]
        for (k, v) in data { context[k] = try ValueConversion.value(v, isData: true, limits: limits) }
        for (k, v) in variables { context[k] = try ValueConversion.value(v, isData: false, limits: limits) }
        return try render(context: context, limits: limits, clock: clock)
    }

    func render(context: [String: Value], limits: JinjaLimits, clock: JinjaClock) throws(JinjaError) -> ChatRendering {
        let interp = Interpreter(program: program, variables: context, limits: limits, clock: clock)
        let result: (bytes: [UInt8], data: [Range<Int>])
        do {
            result = try interp.run()
        } catch {
            throw JinjaTemplate.locate(error, name: program.name, source: program.source)
        }
        var generation: [Range<Int>] = []
        if !interp.generationSpans.isEmpty {
            generation = JinjaTemplate.byteSpans(interp.generationSpans, in: result.bytes)
        }
        return ChatRendering(utf8: result.bytes, generationSpans: generation, dataSpans: result.data)
    }

    /// Character offsets (as Python counts) → UTF-8 byte offsets of `text`.
    static func byteSpans(_ spans: [(Int, Int)], in text: [UInt8]) -> [Range<Int>] {
        var starts: [Int] = []
        starts.reserveCapacity(text.count + 1)
        for (i, b) in text.enumerated() where b & 0xC0 != 0x80 { starts.append(i) }
        starts.append(text.count)
        func byte(_ c: Int) -> Int { c < 0 ? 0 : c < starts.count ? starts[c] : text.count }
        return spans.map { byte($0.0)..<max(byte($0.0), byte($0.1)) }
    }

    /// Fills in the template name, line and column of an error from its byte offset.
    static func locate(_ error: JinjaError, name: String, source: [UInt8]) -> JinjaError {
        var e = error
        e.templateName = name
        if e.offset >= 0 {
            let end = min(e.offset, source.count)
            var line = 1
            var lineStart = 0
            for i in 0..<end where source[i] == 10 {
                line += 1
                lineStart = i + 1
            }
            e.line = line
            e.column = PyUnicode.scalarCount(source, lineStart, end) + 1
        }
        return e
    }
}

/// JSON values → template values (Python's `json.loads` types).
enum ValueConversion {
    /// Keys and short values that chat data repeats in every message, made once (a conversion
    /// allocates a string per key and value otherwise).
    static let common: [[(String, PyString)]] = {
        let words = ["role", "content", "name", "type", "function", "arguments", "tool_calls", "tool_call_id", "id",
                     "description", "parameters", "properties", "required", "enum", "items", "reasoning_content",
                     "thinking", "reasoning", "text", "title", "tools", "default", "format", "object", "string",
                     "integer", "number", "boolean", "array", "null", "user", "assistant", "system", "tool", "developer",
                     "ipython", "image", "image_url", "url", "additionalProperties", "anyOf", "oneOf", "allOf",
                     "nullable", "minimum", "maximum", "examples", "value", "key", "call_id", "output", "input"]
        // Indexed by UTF-8 length: a lookup compares a few short strings, no hashing.
        var byLength = [[(String, PyString)]](repeating: [], count: 21)
        for w in words where w.utf8.count <= 20 { byLength[w.utf8.count].append((w, PyString(w, .data))) }
        return byLength
    }()

    @inline(__always)
    static func dataString(_ s: String) -> PyString {
        let n = s.utf8.count
        if n <= 20 {
            for (w, p) in common[n] where w == s { return p }
        }
        return PyString(s, .data)
    }

    /// Whether a small object's keys are all different (JSON allows repeats; Python keeps the
    /// first position and the last value).
    static func distinctKeys(_ members: [(String, JSONValue)]) -> Bool {
        for i in members.indices {
            var j = i + 1
            while j < members.count {
                if members[i].0 == members[j].0 { return false }
                j += 1
            }
        }
        return true
    }

    static func value(_ j: JSONValue, isData: Bool, limits: JinjaLimits, depth: Int = 0) throws(JinjaError) -> Value {
        if depth > limits.maxNestingDepth { throw Budget.nestingError(limits.maxNestingDepth) }
        switch j {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .number(let d, let isInteger):
            if isInteger && d.magnitude < 9.2e18 { return .int(Int(d)) }
            return .float(d)
        case .string(let s): return .string(isData ? dataString(s) : PyString(s, .literal))
        case .array(let items):
            if items.count > limits.maxContainerLength { throw Budget.containerError(items.count, limits.maxContainerLength) }
            var vs: [Value] = []
            vs.reserveCapacity(items.count)
            for x in items { vs.append(try value(x, isData: isData, limits: limits, depth: depth + 1)) }
            return .list(PyList(vs))
        case .object(let members):
            if members.count > limits.maxContainerLength { throw Budget.containerError(members.count, limits.maxContainerLength) }
            var keys: [Value] = []
            var values: [Value] = []
            keys.reserveCapacity(members.count)
            values.reserveCapacity(members.count)
            for (k, v) in members {
                keys.append(.string(isData ? dataString(k) : PyString(k, .literal)))
                values.append(try value(v, isData: isData, limits: limits, depth: depth + 1))
            }
            if members.count <= PyDict.scanLimit && distinctKeys(members) {
                return .dict(PyDict(uniqueKeys: keys, values: values))
            }
            return .dict(try PyDict(pairs: Array(zip(keys, values))))
        }
    }
}
