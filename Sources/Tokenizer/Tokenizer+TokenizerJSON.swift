// HF tokenizer.json: the components finetok implements exactly, and a clear refusal (with the
// JSON path) for everything else.
//
// Supported:
//   normalizer      null, NFC, Sequence of those
//   pre_tokenizer   ByteLevel (add_prefix_space, use_regex), Split (GPT-2 / cl100k / Llama 3 /
//                   Qwen2 / o200k regexes; Isolated, or Removed with invert), Sequence (splits,
//                   then ByteLevel last)
//   model           BPE: vocab, merges ("a b" or ["a","b"]), ignore_merges, byte_fallback,
//                   unk_token, fuse_unk, dropout null, empty continuing_subword_prefix/end_of_word_suffix
//   added_tokens    special, lstrip, rstrip, single_word, normalized
//   post_processor  null, ByteLevel, TemplateProcessing (single), BertProcessing,
//                   RobertaProcessing, Sequence
//   decoder         null, ByteLevel, Sequence of ByteLevel

extension Tokenizer {
    static func loadTokenizerJSON(_ path: String, options: LoadOptions) throws(TokenizerError) -> Tokenizer {
        let root = try parseJSON(try readFile(path), path: path)
        guard case .object = root else {
            throw .unknownFormat(path: path, message: "not a tokenizer.json: expected a JSON object, found \(root.typeDescription)")
        }
        guard let model = root["model"] else {
            throw .unknownFormat(path: path, message: "not a tokenizer.json: it has no \"model\" (is it a vocab.json? put merges.txt beside it)")
        }
        func unsupported(_ jsonPath: String, _ what: String) -> TokenizerError {
            .unsupported(path: path, jsonPath: jsonPath, message: what)
        }

        // truncation / padding would change encode() in HF; finetok has its own options.
        for key in ["truncation", "padding"] where !(root[key]?.isNull ?? true) {
            throw unsupported(key, "tokenizer.json sets \(key), which HF applies on every encode; set it to null and use finetok's --max-length / --padding instead")
        }

        // normalizer
        let normalizer = try parseNormalizer(root["normalizer"] ?? .null, at: "normalizer", unsupported)

        // pre_tokenizer
        var steps: [PreTokenizerStep] = []
        try parsePreTokenizer(root["pre_tokenizer"] ?? .null, at: "pre_tokenizer", into: &steps, unsupported)
        guard let last = steps.last, case .byteLevel = last else {
            throw unsupported("pre_tokenizer", "finetok implements byte-level BPE, which needs a ByteLevel pre-tokenizer as the last step; this file has \(steps.isEmpty ? "none" : "another order")")
        }
        if steps.dropLast().contains(where: { if case .byteLevel = $0 { return true }; return false }) {
            throw unsupported("pre_tokenizer", "ByteLevel must come last in the Sequence (a split after it would see byte-level characters)")
        }
        if let override = options.pattern {
            steps = steps.map { step in
                switch step {
                case .split: return .split(override)
                case let .byteLevel(prefix, p): return .byteLevel(addPrefixSpace: prefix, pattern: p == nil ? nil : override)
                }
            }
            let hasRegex = steps.contains { step in
                switch step {
                case .split: return true
                case .byteLevel(_, let p): return p != nil
                }
            }
            if !hasRegex { steps.insert(.split(override), at: 0) }
        }

        // model
        let type = model["type"]?.stringValue ?? "BPE"
        guard type == "BPE" else {
            throw unsupported("model.type", "model type \(JSON.quoted(type)) is not supported; finetok implements byte-level BPE only")
        }
        if let d = model["dropout"], !d.isNull, !(d.intValue == 0) {
            throw unsupported("model.dropout", "BPE dropout makes encoding random; set it to null")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key], !v.isNull, v.stringValue != "" {
                throw unsupported("model.\(key)", "\(key) \(v.stringValue.map(JSON.quoted) ?? v.typeDescription) is not supported (byte-level BPE does not use it)")
            }
        }
        guard let vocabValue = model["vocab"] else {
            throw .invalidContent(path: path, location: "model", message: "the BPE model has no \"vocab\"")
        }
        let addedCount = root["added_tokens"]?.arrayValue?.count ?? 0
        var (tokens, index) = try readVocab(vocabValue, path: path, jsonPath: "model.vocab", allowGaps: true, maxGaps: addedCount)
        // Added tokens may sit beyond the model's vocabulary; they decode through addedById.
        guard case .array(let merges)? = model["merges"] else {
            throw .invalidContent(path: path, location: "model.merges", message: "expected an array of merges")
        }
        let pairs = PairTable(capacity: merges.count)
        for (rank, m) in merges.enumerated() {
            let where_ = "model.merges[\(rank)]"
            var a = "", b = ""
            switch m {
            case .string(let s):
                guard let space = s.firstIndex(of: " ") else {
                    throw .invalidContent(path: path, location: where_, message: "merge \(JSON.quoted(s)) should be two tokens separated by a space")
                }
                a = String(s[..<space])
                b = String(s[s.index(after: space)...])
                if b.contains(" ") {
                    throw .invalidContent(path: path, location: where_, message: "merge \(JSON.quoted(s)) has more than two parts")
                }
            case .array(let parts):
                guard parts.count == 2, let x = parts[0].stringValue, let y = parts[1].stringValue else {
                    throw .invalidContent(path: path, location: where_, message: "a merge written as an array must hold exactly two strings")
                }
                a = x
                b = y
            default:
                throw .invalidContent(path: path, location: where_, message: "expected a merge string or a pair of strings, found \(m.typeDescription)")
            }
            var a8 = a, b8 = b
            let failure: TokenizerError? = a8.withUTF8 { pa in
                b8.withUTF8 { pb in
                    do { try addMerge(pa, pb, rank: UInt32(rank), index: index, pairs: pairs, path: path, location: where_) } catch let e as TokenizerError {
                        return e
                    } catch {
                        return .badOption("\(error)")
                    }
                    return nil
                }
            }
            if let failure { throw failure }
        }
        let ignoreMerges = model["ignore_merges"]?.boolValue ?? false
        var bpe = BPEModel(store: index.store, lookup: index.lookup, tokens: tokens, pairs: pairs, wholePieceFirst: ignoreMerges)
        if let unk = model["unk_token"]?.stringValue {
            guard let id = index.id(unk) else {
                throw .invalidContent(path: path, location: "model.unk_token", message: "unk_token \(JSON.quoted(unk)) is not in the vocabulary")
            }
            bpe.unkId = id
        }
        bpe.fuseUnk = model["fuse_unk"]?.boolValue ?? false
        if model["byte_fallback"]?.boolValue == true {
            var fb = [UInt32](repeating: BPEModel.noId, count: 256)
            for b in 0..<256 {
                let name = "<0x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true) + ">"
                if let id = index.id(name) { fb[b] = id }
            }
            bpe.byteFallbackIds = fb
        }
        bpe.markSelfMergingTokens()

        // added_tokens
        var added: [AddedToken] = []
        if case .array(let list)? = root["added_tokens"] {
            for (i, t) in list.enumerated() {
                guard let id = t["id"]?.intValue, id >= 0, let content = t["content"]?.stringValue else {
                    throw .invalidContent(path: path, location: "added_tokens[\(i)]", message: "an added token needs an integer \"id\" and a string \"content\"")
                }
                added.append(AddedToken(id: UInt32(id), content: content, special: t["special"]?.boolValue ?? false,
                                        singleWord: t["single_word"]?.boolValue ?? false,
                                        lstrip: t["lstrip"]?.boolValue ?? false, rstrip: t["rstrip"]?.boolValue ?? false,
                                        normalized: t["normalized"]?.boolValue ?? !(t["special"]?.boolValue ?? false)))
            }
        }

        // Every id below the highest must belong to the model or an added token.
        var covered = tokens.map { $0 != nil }
        if let far = added.first(where: { Int($0.id) >= tokens.count + added.count }) {
            throw .invalidContent(path: path, location: "added_tokens", message: "added token \(JSON.quoted(far.content)) has id \(far.id), beyond the \(tokens.count + added.count) tokens given; ids must have no gaps")
        }
        for t in added {
            if Int(t.id) >= covered.count { covered += [Bool](repeating: false, count: Int(t.id) + 1 - covered.count) }
            covered[Int(t.id)] = true
        }
        if let gap = covered.firstIndex(of: false) {
            throw .invalidContent(path: path, location: "model.vocab", message: "no token (in model.vocab or added_tokens) has id \(gap), though higher ids exist; ids must have no gaps")
        }

        // post_processor (applied only when special tokens are requested)
        var prefix: [UInt32] = [], suffix: [UInt32] = []
        try parsePostProcessor(root["post_processor"] ?? .null, at: "post_processor", prefix: &prefix, suffix: &suffix,
                               added: added, path: path, unsupported)

        // decoder: ids → bytes is the ByteLevel decoder; refuse anything that would differ.
        try checkDecoder(root["decoder"] ?? .null, at: "decoder", unsupported)

        return Tokenizer(format: .tokenizerJSON, paths: [path], model: bpe, normalizer: normalizer, steps: steps,
                         addedTokens: added, matchesAddedTokens: true, postPrefix: prefix, postSuffix: suffix)
    }

    private static func parseNormalizer(_ v: JSONValue, at jp: String, _ unsupported: (String, String) -> TokenizerError) throws(TokenizerError) -> Normalizer {
        if v.isNull { return .none }
        let type = v["type"]?.stringValue ?? "?"
        switch type {
        case "NFC": return .nfc
        case "Sequence":
            var result = Normalizer.none
            for (i, n) in (v["normalizers"]?.arrayValue ?? []).enumerated() {
                let r = try parseNormalizer(n, at: "\(jp).normalizers[\(i)]", unsupported)
                if r == .nfc { result = .nfc }
            }
            return result
        default:
            throw unsupported("\(jp).type", "normalizer \(JSON.quoted(type)) is not supported (finetok implements NFC and Sequence)")
        }
    }

    private static func parsePreTokenizer(_ v: JSONValue, at jp: String, into steps: inout [PreTokenizerStep],
                                          _ unsupported: (String, String) -> TokenizerError) throws(TokenizerError) {
        if v.isNull { return }
        let type = v["type"]?.stringValue ?? "?"
        switch type {
        case "ByteLevel":
            let useRegex = v["use_regex"]?.boolValue ?? true
            steps.append(.byteLevel(addPrefixSpace: v["add_prefix_space"]?.boolValue ?? true, pattern: useRegex ? .gpt2 : nil))
        case "Split":
            guard let regex = v["pattern"]?["Regex"]?.stringValue else {
                throw unsupported("\(jp).pattern", "only Split patterns given as {\"Regex\": ...} are supported")
            }
            guard let pattern = SplitPattern.recognize(regex: regex) else {
                throw unsupported("\(jp).pattern.Regex", "the split regex \(JSON.quoted(regex)) is not one finetok implements (GPT-2, cl100k/Llama 3, Qwen2, o200k); pass --pattern NAME to use one of those instead")
            }
            let behavior = v["behavior"]?.stringValue ?? "Isolated"
            let invert = v["invert"]?.boolValue ?? false
            // The known patterns match every character, so the matches tile the text: Isolated
            // (matches and gaps) and Removed+invert (matches only) give the same pieces.
            guard (behavior == "Isolated" && !invert) || (behavior == "Removed" && invert) else {
                throw unsupported("\(jp).behavior", "Split behavior \(JSON.quoted(behavior)) with invert=\(invert) is not supported (Isolated, or Removed with invert)")
            }
            steps.append(.split(pattern))
        case "Sequence":
            for (i, p) in (v["pretokenizers"]?.arrayValue ?? []).enumerated() {
                try parsePreTokenizer(p, at: "\(jp).pretokenizers[\(i)]", into: &steps, unsupported)
            }
        default:
            throw unsupported("\(jp).type", "pre-tokenizer \(JSON.quoted(type)) is not supported (finetok implements ByteLevel, Split and Sequence)")
        }
    }

    private static func parsePostProcessor(_ v: JSONValue, at jp: String, prefix: inout [UInt32], suffix: inout [UInt32],
                                           added: [AddedToken], path: String,
                                           _ unsupported: (String, String) -> TokenizerError) throws(TokenizerError) {
        if v.isNull { return }
        let type = v["type"]?.stringValue ?? "?"
        switch type {
        case "ByteLevel": return
        case "Sequence":
            for (i, p) in (v["processors"]?.arrayValue ?? []).enumerated() {
                try parsePostProcessor(p, at: "\(jp).processors[\(i)]", prefix: &prefix, suffix: &suffix, added: added, path: path, unsupported)
            }
        case "TemplateProcessing":
            let specials = v["special_tokens"]
            var seenSequence = false
            for (i, item) in (v["single"]?.arrayValue ?? []).enumerated() {
                if item["Sequence"] != nil { seenSequence = true; continue }
                guard let name = item["SpecialToken"]?["id"]?.stringValue else {
                    throw unsupported("\(jp).single[\(i)]", "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}")
                }
                guard let idList = specials?[name]?["ids"]?.arrayValue else {
                    throw .invalidContent(path: path, location: "\(jp).special_tokens", message: "the template names \(JSON.quoted(name)), which special_tokens does not define")
                }
                let ids = idList.compactMap { $0.intValue }.map { UInt32($0) }
                if seenSequence { suffix += ids } else { prefix += ids }
            }
        case "BertProcessing", "RobertaProcessing":
            guard let cls = v["cls"]?.arrayValue, cls.count == 2, let clsId = cls[1].intValue,
                  let sep = v["sep"]?.arrayValue, sep.count == 2, let sepId = sep[1].intValue else {
                throw .invalidContent(path: path, location: jp, message: "\(type) needs \"cls\" and \"sep\" as [token, id]")
            }
            prefix = [UInt32(clsId)]
            suffix = [UInt32(sepId)]
        default:
            throw unsupported("\(jp).type", "post-processor \(JSON.quoted(type)) is not supported")
        }
    }

    private static func checkDecoder(_ v: JSONValue, at jp: String, _ unsupported: (String, String) -> TokenizerError) throws(TokenizerError) {
        if v.isNull { return }
        let type = v["type"]?.stringValue ?? "?"
        switch type {
        case "ByteLevel": return
        case "Sequence":
            for (i, d) in (v["decoders"]?.arrayValue ?? []).enumerated() { try checkDecoder(d, at: "\(jp).decoders[\(i)]", unsupported) }
        default:
            throw unsupported("\(jp).type", "decoder \(JSON.quoted(type)) is not supported (finetok decodes byte-level BPE)")
        }
    }
}
