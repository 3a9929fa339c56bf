// HF tokenizer.json: the model, its vocabulary and merges, added tokens, and the pipeline
// components (TokenizerJSON+Components.swift). A file whose pre-tokenizer has a ByteLevel step
// is byte-level BPE (GPT-2, Llama 3, Qwen); any other BPE is SentencePiece-style, over
// characters (Llama 2, Phi-3, Mistral, Gemma), with token strings that are their own UTF-8.
//
// The BPE model: vocab, merges ("a b" or ["a","b"]), ignore_merges, byte_fallback, unk_token,
// fuse_unk, dropout null, continuing_subword_prefix / end_of_word_suffix (character-level only).

extension Tokenizer {
    static func loadTokenizerJSON(_ path: String, options: LoadOptions, config: TokenizerConfig? = nil) throws(TokenizerError) -> Tokenizer {
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
        var normalizerSteps: [NormalizerStep] = []
        try parseNormalizer(root["normalizer"] ?? .null, at: "normalizer", into: &normalizerSteps, unsupported)
        let normalizer = Normalizer(steps: normalizerSteps)

        // pre_tokenizer
        var steps: [PreTokenizerStep] = []
        try parsePreTokenizer(root["pre_tokenizer"] ?? .null, at: "pre_tokenizer", into: &steps, unsupported)
        let byteLevelSteps = steps.filter { if case .byteLevel = $0 { return true }; return false }.count
        if byteLevelSteps > 1 {
            throw unsupported("pre_tokenizer", "the pre-tokenizer has \(byteLevelSteps) ByteLevel steps; finetok supports one (a second would map the text twice)")
        }
        let isByteLevel = byteLevelSteps == 1
        if let override = options.pattern {
            guard isByteLevel else {
                throw .badOption("--pattern applies to byte-level tokenizers; \(path) is SentencePiece-style (no ByteLevel pre-tokenizer)")
            }
            steps = steps.map { step in
                switch step {
                case .split: return .split(override)
                case let .byteLevel(prefix, p): return .byteLevel(addPrefixSpace: prefix, pattern: p == nil ? nil : override)
                default: return step
                }
            }
            let hasRegex = steps.contains { step in
                switch step {
                case .split: return true
                case .byteLevel(_, let p): return p != nil
                default: return false
                }
            }
            if !hasRegex { steps.insert(.split(override), at: 0) }
        }

        // model
        let type = model["type"]?.stringValue ?? "BPE"
        guard type == "BPE" else {
            throw unsupported("model.type", "model type \(JSON.quoted(type)) is not supported; finetok implements BPE (byte-level and SentencePiece-style)")
        }
        if let d = model["dropout"], !d.isNull, !(d.intValue == 0) {
            throw unsupported("model.dropout", "BPE dropout makes encoding random; set it to null")
        }
        var affixes: [String: [UInt8]] = [:]
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            guard let v = model[key], !v.isNull else { continue }
            guard let s = v.stringValue else {
                throw .invalidContent(path: path, location: "model.\(key)", message: "expected a string or null, found \(v.typeDescription)")
            }
            if s.isEmpty { continue }
            if isByteLevel {
                throw unsupported("model.\(key)", "\(key) \(JSON.quoted(s)) is not supported with a ByteLevel pre-tokenizer")
            }
            affixes[key] = Array(s.utf8)
        }
        let prefix = affixes["continuing_subword_prefix"] ?? [], suffix = affixes["end_of_word_suffix"] ?? []
        guard let vocabValue = model["vocab"] else {
            throw .invalidContent(path: path, location: "model", message: "the BPE model has no \"vocab\"")
        }
        let addedCount = root["added_tokens"]?.arrayValue?.count ?? 0
        let (tokens, index) = try readVocab(vocabValue, path: path, jsonPath: "model.vocab", allowGaps: true, maxGaps: addedCount,
                                            byteLevel: isByteLevel)
        // Added tokens may sit beyond the model's vocabulary; they decode through addedById.
        guard case .array(let merges)? = model["merges"] else {
            throw .invalidContent(path: path, location: "model.merges", message: "expected an array of merges")
        }
        let rules = PairRules(capacity: merges.count)
        for (rank, m) in merges.enumerated() {
            // Only an error names the merge (an interpolated String per merge cost ~25 M
            // instructions for pythia's 50 k merges).
            func where_() -> String { "model.merges[\(rank)]" }
            func merge(_ pa: UnsafeBufferPointer<UInt8>, _ pb: UnsafeBufferPointer<UInt8>) -> TokenizerError? {
                do {
                    try addMerge(pa, pb, rank: UInt32(rank), index: index, rules: rules, path: path, location: where_(), dropPrefix: prefix.count)
                } catch {
                    return error
                }
                return nil
            }
            let failure: TokenizerError?
            switch m {
            case .string(let s):
                // Split at the first space byte, as HF's `split(' ')` (a Character search
                // missed a space followed by a combining mark, and cost ~1,800 instructions a
                // merge; Foundation's `contains(" ")` another ~3,600: ~80 ms of pythia's load).
                var bytes = s
                failure = bytes.withUTF8 { u -> TokenizerError? in
                    guard let space = u.firstIndex(of: 0x20) else {
                        return .invalidContent(path: path, location: where_(), message: "merge \(JSON.quoted(s)) should be two tokens separated by a space")
                    }
                    let tail = UnsafeBufferPointer(rebasing: u[(space + 1)...])
                    if tail.contains(0x20) {
                        return .invalidContent(path: path, location: where_(), message: "merge \(JSON.quoted(s)) has more than two parts")
                    }
                    return merge(UnsafeBufferPointer(rebasing: u[..<space]), tail)
                }
            case .array(let parts):
                guard parts.count == 2, var x = parts[0].stringValue, var y = parts[1].stringValue else {
                    throw .invalidContent(path: path, location: where_(), message: "a merge written as an array must hold exactly two strings")
                }
                failure = x.withUTF8 { pa in y.withUTF8 { pb in merge(pa, pb) } }
            default:
                throw .invalidContent(path: path, location: where_(), message: "expected a merge string or a pair of strings, found \(m.typeDescription)")
            }
            if let failure { throw failure }
        }
        let ignoreMerges = model["ignore_merges"]?.boolValue ?? false
        let pairs = try rules.table(path: path)
        var bpe = BPEModel(store: index.store, lookup: index.lookup, pairs: pairs, wholePieceFirst: ignoreMerges)
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
        if !isByteLevel { bpe.characters = CharacterSymbols(lookup: index.lookup, pairs: pairs, prefix: prefix, suffix: suffix) }
        bpe.markSelfMergingTokens()
        // Words of a character-level BPE are cut where no merge can cross (MetaspaceCut.swift),
        // unless the whole word matters: ignore_merges looks it up whole, affixes mark its ends.
        let cut = !isByteLevel && !ignoreMerges && prefix.isEmpty && suffix.isEmpty
            ? MetaspaceCut(tokens: index.store, lookup: index.lookup, isolated: MetaspaceCut.isolatedCharacters(bpe), isCandidate: { _ in true }) : nil

        // added_tokens
        var added: [AddedToken] = []
        if case .array(let list)? = root["added_tokens"] {
            for (i, t) in list.enumerated() {
                guard let id = t["id"]?.intValue, id >= 0, id < Int(UInt32.max), let content = t["content"]?.stringValue else {
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
        var postPrefix: [UInt32] = [], postSuffix: [UInt32] = [], postNames: [String] = []
        try parsePostProcessor(root["post_processor"] ?? .null, at: "post_processor", prefix: &postPrefix, suffix: &postSuffix,
                               names: &postNames, path: path, unsupported)
        let size = max(tokens.count, (added.map { Int($0.id) + 1 }.max() ?? 0))
        if let far = (postPrefix + postSuffix).first(where: { Int($0) >= size }) {
            throw .invalidContent(path: path, location: "post_processor", message: "the template adds id \(far), outside the vocabulary (0..<\(size))")
        }

        // decoder: a byte-level vocabulary with the ByteLevel decoder decodes by joining bytes;
        // anything else runs the chain as HF does.
        var decoderSteps: [DecoderStep] = []
        try parseDecoder(root["decoder"] ?? .null, at: "decoder", into: &decoderSteps, unsupported)
        let plainByteLevel = isByteLevel && decoderSteps.count == 1 && { if case .byteLevel = decoderSteps[0] { return true }; return false }()
        let decodeMode: DecodeMode = plainByteLevel ? .bytes : .chain(Decoder(steps: decoderSteps))

        return Tokenizer(format: .tokenizerJSON, paths: [path], model: bpe, kind: isByteLevel ? .byteLevel : .characters,
                         normalizer: normalizer, steps: steps, cut: cut, decodeMode: decodeMode,
                         addedTokens: added, matchesAddedTokens: true, postPrefix: postPrefix, postSuffix: postSuffix,
                         postProcessorDescription: postNames.isEmpty ? "none" : postNames.joined(separator: ", "), config: config)
    }
}
