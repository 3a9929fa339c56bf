// The pipeline components of an HF tokenizer.json that finetok implements exactly, read into
// its own types; anything else is refused with its JSON path (never approximated).
//
//   normalizer      null, NFC, Prepend, Replace (String pattern), Lowercase, Strip, Sequence
//   pre_tokenizer   ByteLevel (anywhere in a Sequence; later steps see byte-level characters),
//                   Split with a known regex (GPT-2, cl100k / Llama 3, Qwen2, o200k) or a String
//                   pattern (any behavior, invert), Metaspace, Sequence
//   post_processor  null, ByteLevel, TemplateProcessing (single), BertProcessing,
//                   RobertaProcessing, Sequence
//   decoder         null, ByteLevel, Replace (String pattern), ByteFallback, Fuse, Strip,
//                   Metaspace, Sequence

extension Tokenizer {
    typealias Refusal = (String, String) -> TokenizerError

    static func parseNormalizer(_ v: JSONValue, at jp: String, into steps: inout [NormalizerStep],
                                _ unsupported: Refusal) throws(TokenizerError) {
        if v.isNull { return }
        let type = v["type"]?.stringValue ?? "?"
        switch type {
        case "NFC": steps.append(.nfc)
        case "Lowercase": steps.append(.lowercase)
        case "Strip":
            steps.append(.strip(left: v["strip_left"]?.boolValue ?? true, right: v["strip_right"]?.boolValue ?? true))
        case "Prepend":
            guard let s = v["prepend"]?.stringValue else { throw unsupported("\(jp).prepend", "Prepend needs a string \"prepend\"") }
            steps.append(.prepend(Array(s.utf8)))
        case "Replace":
            guard let pattern = v["pattern"]?["String"]?.stringValue else {
                throw unsupported("\(jp).pattern", "only Replace patterns given as {\"String\": ...} are supported (a regex pattern is not)")
            }
            guard !pattern.isEmpty else { throw unsupported("\(jp).pattern.String", "an empty Replace pattern is not supported") }
            guard let content = v["content"]?.stringValue else { throw unsupported("\(jp).content", "Replace needs a string \"content\"") }
            steps.append(.replace(pattern: LiteralPattern(Array(pattern.utf8)), content: Array(content.utf8)))
        case "Sequence":
            for (i, n) in (v["normalizers"]?.arrayValue ?? []).enumerated() {
                try parseNormalizer(n, at: "\(jp).normalizers[\(i)]", into: &steps, unsupported)
            }
        default:
            throw unsupported("\(jp).type", "normalizer \(JSON.quoted(type)) is not supported (finetok implements NFC, Prepend, Replace with a string, Lowercase, Strip and Sequence)")
        }
    }

    static func parsePreTokenizer(_ v: JSONValue, at jp: String, into steps: inout [PreTokenizerStep],
                                  _ unsupported: Refusal) throws(TokenizerError) {
        if v.isNull { return }
        let type = v["type"]?.stringValue ?? "?"
        switch type {
        case "ByteLevel":
            let useRegex = v["use_regex"]?.boolValue ?? true
            steps.append(.byteLevel(addPrefixSpace: v["add_prefix_space"]?.boolValue ?? true, pattern: useRegex ? .gpt2 : nil))
        case "Split":
            // A regex that is one of the hand-written scanners' spellings, kept as HF tiles the
            // text with it (the scanners match every character, so Isolated and Removed+invert
            // give the same pieces), runs on the scanner; `scanner(for:)` declines the
            // possessive spellings, whose meaning under HF's Oniguruma differs from tiktoken's
            // (PreTokenizerSequence.swift). Everything else — string patterns, other regexes,
            // other behaviours — runs on the generic step.
            if let regex = v["pattern"]?["Regex"]?.stringValue, let pattern = PreTokenizerSequence.scanner(for: regex),
               let behavior = v["behavior"]?.stringValue, let invert = v["invert"]?.boolValue,
               (behavior == "Isolated" && !invert) || (behavior == "Removed" && invert) {
                steps.append(.split(pattern))
                return
            }
            guard let splitter = try genericSplitter(v, at: jp, unsupported) else {
                throw unsupported("\(jp).type", "Split could not be read")
            }
            steps.append(.splitter(splitter))
        case "Metaspace":
            guard let r = v["replacement"]?.stringValue, r.unicodeScalars.count == 1 else {
                throw unsupported("\(jp).replacement", "Metaspace needs a one-character \"replacement\"")
            }
            var scheme = Metaspace.PrependScheme.always
            if let s = v["prepend_scheme"]?.stringValue {
                guard let parsed = Metaspace.PrependScheme(rawValue: s) else {
                    throw unsupported("\(jp).prepend_scheme", "prepend_scheme \(JSON.quoted(s)) is not first, always or never")
                }
                scheme = parsed
            }
            if v["add_prefix_space"]?.boolValue == false {
                // HF: add_prefix_space false must agree with prepend_scheme never.
                guard v["prepend_scheme"] == nil || scheme == .never else {
                    throw unsupported("\(jp).add_prefix_space", "add_prefix_space false contradicts prepend_scheme \(scheme.rawValue)")
                }
                scheme = .never
            }
            steps.append(.metaspace(Metaspace(replacement: Array(r.utf8), prependScheme: scheme, split: v["split"]?.boolValue ?? true)))
        case "Sequence":
            for (i, p) in (v["pretokenizers"]?.arrayValue ?? []).enumerated() {
                try parsePreTokenizer(p, at: "\(jp).pretokenizers[\(i)]", into: &steps, unsupported)
            }
        default:
            if let splitter = try genericSplitter(v, at: jp, unsupported) { steps.append(.splitter(splitter)); return }
            throw unsupported("\(jp).type", "pre-tokenizer \(JSON.quoted(type)) is not supported (finetok implements ByteLevel, Split, Metaspace, Digits, Punctuation, Whitespace, WhitespaceSplit, CharDelimiterSplit, BertPreTokenizer and Sequence)")
        }
    }

    /// Reads the post-processor into the ids it puts around a single text, and a description.
    static func parsePostProcessor(_ v: JSONValue, at jp: String, prefix: inout [UInt32], suffix: inout [UInt32],
                                   names: inout [String], path: String, _ unsupported: Refusal) throws(TokenizerError) {
        if v.isNull { return }
        let type = v["type"]?.stringValue ?? "?"
        switch type {
        case "ByteLevel": return
        case "Sequence":
            for (i, p) in (v["processors"]?.arrayValue ?? []).enumerated() {
                try parsePostProcessor(p, at: "\(jp).processors[\(i)]", prefix: &prefix, suffix: &suffix, names: &names, path: path, unsupported)
            }
        case "TemplateProcessing":
            let specials = v["special_tokens"]
            var seenSequence = false
            var template: [String] = []
            for (i, item) in (v["single"]?.arrayValue ?? []).enumerated() {
                if item["Sequence"] != nil { seenSequence = true; template.append("$A"); continue }
                guard let name = item["SpecialToken"]?["id"]?.stringValue else {
                    throw unsupported("\(jp).single[\(i)]", "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}")
                }
                guard let idList = specials?[name]?["ids"]?.arrayValue else {
                    throw .invalidContent(path: path, location: "\(jp).special_tokens", message: "the template names \(JSON.quoted(name)), which special_tokens does not define")
                }
                var ids: [UInt32] = []
                for (k, idValue) in idList.enumerated() {
                    guard let id = idValue.intValue, id >= 0, id < Int(UInt32.max) else {
                        throw .invalidContent(path: path, location: "\(jp).special_tokens.\(name).ids[\(k)]", message: "expected a token id, found \(idValue.typeDescription)")
                    }
                    ids.append(UInt32(id))
                }
                template.append(name)
                if seenSequence { suffix += ids } else { prefix += ids }
            }
            names.append("TemplateProcessing(\(template.joined(separator: " ")))")
        case "BertProcessing", "RobertaProcessing":
            guard let cls = v["cls"]?.arrayValue, cls.count == 2, let clsId = cls[1].intValue, clsId >= 0, clsId < Int(UInt32.max),
                  let sep = v["sep"]?.arrayValue, sep.count == 2, let sepId = sep[1].intValue, sepId >= 0, sepId < Int(UInt32.max) else {
                throw .invalidContent(path: path, location: jp, message: "\(type) needs \"cls\" and \"sep\" as [token, id]")
            }
            prefix = [UInt32(clsId)]
            suffix = [UInt32(sepId)]
            names.append(type)
        default:
            throw unsupported("\(jp).type", "post-processor \(JSON.quoted(type)) is not supported")
        }
    }

    static func parseDecoder(_ v: JSONValue, at jp: String, into steps: inout [DecoderStep], _ unsupported: Refusal) throws(TokenizerError) {
        if v.isNull { return }
        let type = v["type"]?.stringValue ?? "?"
        func scalar(_ key: String) throws(TokenizerError) -> Unicode.Scalar {
            guard let s = v[key]?.stringValue, s.unicodeScalars.count == 1, let c = s.unicodeScalars.first else {
                throw unsupported("\(jp).\(key)", "\(type) needs a one-character \"\(key)\"")
            }
            return c
        }
        switch type {
        case "ByteLevel": steps.append(.byteLevel)
        case "ByteFallback": steps.append(.byteFallback)
        case "Fuse": steps.append(.fuse)
        case "Replace":
            guard let pattern = v["pattern"]?["String"]?.stringValue, !pattern.isEmpty else {
                throw unsupported("\(jp).pattern", "only Replace decoders with a non-empty {\"String\": ...} pattern are supported")
            }
            guard let content = v["content"]?.stringValue else { throw unsupported("\(jp).content", "Replace needs a string \"content\"") }
            steps.append(.replace(pattern: LiteralPattern(Array(pattern.utf8)), content: Array(content.utf8)))
        case "Strip":
            let content = try scalar("content")
            guard let start = v["start"]?.intValue, start >= 0, let stop = v["stop"]?.intValue, stop >= 0 else {
                throw unsupported(jp, "Strip needs non-negative integers \"start\" and \"stop\"")
            }
            steps.append(.strip(content: content, start: start, stop: stop))
        case "Metaspace":
            let replacement = try scalar("replacement")
            var scheme = Metaspace.PrependScheme.always
            if let s = v["prepend_scheme"]?.stringValue {
                guard let parsed = Metaspace.PrependScheme(rawValue: s) else {
                    throw unsupported("\(jp).prepend_scheme", "prepend_scheme \(JSON.quoted(s)) is not first, always or never")
                }
                scheme = parsed
            }
            if v["add_prefix_space"]?.boolValue == false { scheme = .never }
            steps.append(.metaspace(replacement: replacement, prependScheme: scheme))
        case "Sequence":
            for (i, d) in (v["decoders"]?.arrayValue ?? []).enumerated() {
                try parseDecoder(d, at: "\(jp).decoders[\(i)]", into: &steps, unsupported)
            }
        default:
            throw unsupported("\(jp).type", "decoder \(JSON.quoted(type)) is not supported (finetok implements ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace and Sequence)")
        }
    }
}
