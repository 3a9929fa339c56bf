// Building pre-tokenizer steps from a tokenizer.json `pre_tokenizer` value, with HF's rules for
// required fields (serde): Split needs `pattern` ({"String": ..} or {"Regex": ..}, one key),
// `behavior` and `invert`; Digits needs `individual_digits`; Punctuation's `behavior` defaults to
// Isolated; CharDelimiterSplit's `delimiter` is one character. Unknown extra fields are ignored,
// as HF does.

/// A bad or unsupported pre-tokenizer in a tokenizer.json, at a JSON path
/// (`pre_tokenizer.pretokenizers[1].pattern.Regex`). The loader adds the file name.
struct PreTokenizerJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    var jsonPath: String
    var message: String
    /// True when the value is valid for HF but finetok does not implement it.
    var unsupported = false

    var description: String { "\(jsonPath): \(message)" }
}

extension GenericPreTokenizer {
    /// The generic step a `pre_tokenizer` object describes, or nil for the types this does not
    /// handle (ByteLevel, Metaspace, Sequence, UnicodeScripts, FixedLength...).
    /// - Throws: `PreTokenizerJSONError` naming the JSON path of a missing or bad field, or of a
    ///   regex finetok cannot compile (with the byte offset in the pattern).
    static func fromJSON(_ v: JSONValue, at path: String) throws(PreTokenizerJSONError) -> GenericPreTokenizer? {
        guard case .object = v else {
            throw PreTokenizerJSONError(jsonPath: path, message: "expected a pre-tokenizer object, found \(v.typeDescription)")
        }
        guard let type = v["type"]?.stringValue else {
            throw PreTokenizerJSONError(jsonPath: "\(path).type", message: "missing the pre-tokenizer \"type\" (a string)")
        }
        func field(_ name: String) throws(PreTokenizerJSONError) -> JSONValue {
            guard let f = v[name] else {
                throw PreTokenizerJSONError(jsonPath: "\(path).\(name)", message: "\(type) needs \"\(name)\"")
            }
            return f
        }
        func bool(_ name: String) throws(PreTokenizerJSONError) -> Bool {
            let f = try field(name)
            guard let b = f.boolValue else {
                throw PreTokenizerJSONError(jsonPath: "\(path).\(name)", message: "expected true or false, found \(f.typeDescription)")
            }
            return b
        }
        func behavior(_ f: JSONValue) throws(PreTokenizerJSONError) -> SplitDelimiterBehavior {
            guard let s = f.stringValue, let b = SplitDelimiterBehavior(rawValue: s) else {
                let names = SplitDelimiterBehavior.allCases.map(\.rawValue).joined(separator: ", ")
                throw PreTokenizerJSONError(jsonPath: "\(path).behavior", message: "behavior must be one of \(names); found \(f.stringValue.map(JSON.quoted) ?? f.typeDescription)")
            }
            return b
        }
        switch type {
        case "Split":
            let patternValue = try field("pattern")
            guard let members = patternValue.objectValue, members.count == 1,
                  members[0].0 == "String" || members[0].0 == "Regex", let source = members[0].1.stringValue else {
                throw PreTokenizerJSONError(jsonPath: "\(path).pattern", message: "expected {\"String\": \"...\"} or {\"Regex\": \"...\"}")
            }
            let b = try behavior(try field("behavior"))
            let invert = try bool("invert")
            let program: RegexProgram
            do {
                program = members[0].0 == "Regex" ? try RegexProgram(pattern: source) : try RegexProgram(literal: source)
            } catch {
                throw PreTokenizerJSONError(jsonPath: "\(path).pattern.\(members[0].0)",
                                            message: "\(JSON.quoted(source)): \(error)", unsupported: error.kind != .syntax)
            }
            return GenericPreTokenizer(.split(program, b, invert: invert))
        case "Digits":
            return GenericPreTokenizer(.digits(individual: try bool("individual_digits")))
        case "Punctuation":
            return GenericPreTokenizer(.punctuation(try v["behavior"].map(behavior) ?? .isolated))
        case "Whitespace":
            return GenericPreTokenizer(.whitespace)
        case "WhitespaceSplit":
            return GenericPreTokenizer(.whitespaceSplit)
        case "BertPreTokenizer":
            return GenericPreTokenizer(.bert)
        case "CharDelimiterSplit":
            let f = try field("delimiter")
            guard let s = f.stringValue, s.unicodeScalars.count == 1, let c = s.unicodeScalars.first else {
                throw PreTokenizerJSONError(jsonPath: "\(path).delimiter", message: "expected a string of exactly one character, found \(f.stringValue.map(JSON.quoted) ?? f.typeDescription)")
            }
            return GenericPreTokenizer(.charDelimiter(c.value))
        default:
            return nil
        }
    }
}
