// Loading a SentencePiece `tokenizer.model` (BPE) into a `Tokenizer` that encodes as the
// `sentencepiece` library's `encode(text)` and decodes as its `decode(ids)`.
//
// What is refused, with the field that says it: UNIGRAM, WORD and CHAR models; a normalizer
// with a character map (`nmt_nfkc` and friends: only identity normalization is implemented);
// a denormalizer; `treat_whitespace_as_suffix`.

extension Tokenizer {
    static func loadSentencePiece(_ path: String, options: LoadOptions, config: TokenizerConfig? = nil) throws(TokenizerError) -> Tokenizer {
        try sentencePiece(from: try readFile(path), path: path, config: config)
    }

    /// A tokenizer from the bytes of a `tokenizer.model` (`path` names it in errors).
    static func sentencePiece(from bytes: [UInt8], path: String, config: TokenizerConfig? = nil) throws(TokenizerError) -> Tokenizer {
        let proto: SentencePieceModel
        do {
            proto = try bytes.withUnsafeBufferPointer { buf throws(ProtobufError) in try SentencePieceModel.parse(buf) }
        } catch {
            throw .invalidContent(path: path, location: "byte \(error.offset)",
                                  message: "\(error.message) (is this a SentencePiece tokenizer.model?)")
        }
        func unsupported(_ field: String, _ what: String) -> TokenizerError { .unsupported(path: path, jsonPath: field, message: what) }
        guard proto.modelType == .bpe else {
            throw unsupported("trainer_spec.model_type", "this is a SentencePiece \(proto.modelType.name) model; finetok implements SentencePiece BPE models only")
        }
        guard proto.charsmapSize == 0 else {
            throw unsupported("normalizer_spec.precompiled_charsmap", "the model normalizes text with \(proto.normalizerName.isEmpty ? "a character map" : JSON.quoted(proto.normalizerName)) (\(proto.charsmapSize) bytes of rules), which finetok does not implement; only identity normalization is supported (use the model's tokenizer.json if it has one)")
        }
        guard proto.denormalizerCharsmapSize == 0 else {
            throw unsupported("denormalizer_spec.precompiled_charsmap", "the model has a denormalizer, which finetok does not implement")
        }
        guard !proto.treatWhitespaceAsSuffix else {
            throw unsupported("trainer_spec.treat_whitespace_as_suffix", "whitespace as a suffix is not supported")
        }
        guard proto.pieces.count < Int(SentencePieceBPE.unknownBit) else {
            throw .invalidContent(path: path, location: "pieces", message: "\(proto.pieces.count) pieces is more than finetok supports")
        }

        // Every piece for decoding; the mergeable ones (sentencepiece's `pieces_`) for encoding.
        let all: [[UInt8]?] = proto.pieces.map(\.text)
        let mergeable: [[UInt8]?] = proto.pieces.map { SentencePieceModel.isMatchable($0.type) ? $0.text : nil }
        let store = TokenStore(all)
        let matchStore = TokenStore(mergeable)
        let lookup = BytesToId(matchStore)

        // Ranks: scores from high to low, equal scores sharing one.
        let scores = Set(proto.pieces.enumerated().compactMap { i, p in mergeable[i] != nil ? p.score : nil }).sorted(by: >)
        var rankOf: [Float: UInt32] = [:]
        for (r, s) in scores.enumerated() { rankOf[s] = UInt32(r) }
        var scoreRank = [UInt32](repeating: UInt32.max, count: proto.pieces.count)
        for (i, p) in proto.pieces.enumerated() where mergeable[i] != nil { scoreRank[i] = rankOf[p.score] ?? UInt32.max }

        // The pair table: every cut of a mergeable piece into two mergeable, non-user-defined
        // pieces. (User-defined symbols are frozen and never formed by a merge.)
        let types = proto.pieces.map(\.type)
        let rules = PairRules(capacity: proto.pieces.count * 2)
        var tiedRanks = [UInt32: UInt32]()   // rank → the first piece id seen with it
        var tiesByPosition = false
        var unknownCharacters = false
        for (id, p) in proto.pieces.enumerated() where mergeable[id] != nil && p.type != .userDefined {
            let text = p.text
            var k = utf8SequenceLength(text[0])
            guard k < text.count else { continue }
            var any = false
            text.withUnsafeBufferPointer { t in
                guard let base = t.baseAddress else { return }
                // A character of the piece that is no piece itself could merge as an unknown symbol.
                var c = 0
                while c < t.count {
                    let len = min(utf8SequenceLength(t[c]), t.count - c)
                    let cid = lookup.get(base + c, len)
                    if cid == BytesToId.empty { unknownCharacters = true }
                    c += len
                }
                while k < t.count {
                    let l = lookup.get(base, k), r = lookup.get(base + k, t.count - k)
                    if l != BytesToId.empty, r != BytesToId.empty, types[Int(l)] != .userDefined, types[Int(r)] != .userDefined {
                        rules.set(l, r, rank: scoreRank[id], id: UInt32(id))
                        any = true
                    }
                    k += min(utf8SequenceLength(t[k]), t.count - k)
                }
            }
            if any {
                if let first = tiedRanks[scoreRank[id]], first != UInt32(id) { tiesByPosition = true } else { tiedRanks[scoreRank[id]] = UInt32(id) }
            }
        }
        let hasUnused = proto.pieces.contains { $0.type == .unused }
        let singleCharacterControl = proto.pieces.contains { p in
            p.type == .control && utf8SequenceLength(p.text[0]) == p.text.count
        }

        let pairs = try rules.table(path: path)
        var model = BPEModel(store: store, lookup: lookup, pairs: pairs, wholePieceFirst: false)
        model.characters = CharacterSymbols(lookup: lookup, pairs: pairs)
        model.unkId = UInt32(proto.unkId)
        if proto.byteFallback {
            var fb = [UInt32](repeating: BPEModel.noId, count: 256)
            for (i, p) in proto.pieces.enumerated() where p.type == .byte {
                if let b = SentencePieceModel.byteValue(p.text) { fb[Int(b)] = UInt32(i) }
            }
            model.byteFallbackIds = fb
        }
        var userDefined: [(bytes: [UInt8], id: UInt32)] = []
        var reserved: [[UInt8]: UInt32] = [:]
        for (i, p) in proto.pieces.enumerated() {
            if p.type == .userDefined { userDefined.append((p.text, UInt32(i))) }
            if !SentencePieceModel.isMatchable(p.type) { reserved[p.text] = UInt32(i) }
        }
        let matcher = PrefixMatcher(userDefined)
        let needsReference = hasUnused || unknownCharacters || singleCharacterControl
        func encoder(_ m: BPEModel) -> SentencePieceBPE {
            SentencePieceBPE(model: m, userDefined: matcher, unkId: UInt32(proto.unkId), tiesByPosition: tiesByPosition,
                             scoreRank: scoreRank, types: types, reserved: reserved, needsReference: needsReference,
                             wholeText: hasUnused)
        }
        let first = encoder(model)
        model.markSelfMergingTokens { first.encode($0, $1, into: &$2, scratch: $3) }
        let spm = encoder(model)

        // CONTROL, UNKNOWN and USER_DEFINED pieces are listed as added tokens (never matched in
        // the text: sentencepiece finds user-defined symbols itself, and control symbols never).
        var added: [AddedToken] = []
        for (i, p) in proto.pieces.enumerated() where p.type == .control || p.type == .unknown || p.type == .userDefined {
            added.append(AddedToken(id: UInt32(i), content: String(decoding: p.text, as: UTF8.self), special: p.type != .userDefined))
        }
        let normalizer = Normalizer(steps: [.sentencePiece(SentencePieceNormalizer(
            addDummyPrefix: proto.addDummyPrefix, removeExtraWhitespaces: proto.removeExtraWhitespaces,
            escapeWhitespaces: proto.escapeWhitespaces, userDefined: matcher))])
        // ASCII characters that are no piece stand alone (each is one byte-fallback id) unless a
        // user-defined symbol holds them or unknown characters can merge.
        var isolated = [Bool](repeating: false, count: 128)
        if proto.byteFallback && !needsReference, let ascii = model.characters?.ascii {
            for b in 0..<128 where ascii[b] == BPEModel.noId && !userDefined.contains(where: { $0.bytes.contains(UInt8(b)) }) {
                isolated[b] = true
            }
        }
        let cut = hasUnused ? nil : MetaspaceCut(tokens: matchStore, lookup: lookup, isolated: isolated, isCandidate: { _ in true })
        let decoder = SentencePieceDecoder(types: types, addDummyPrefix: proto.addDummyPrefix,
                                           removeExtraWhitespaces: proto.removeExtraWhitespaces, unkSurface: proto.unkSurface)
        return Tokenizer(format: .sentencePiece, paths: [path], model: model, kind: .sentencePiece(spm), normalizer: normalizer,
                         steps: [], cut: cut, decodeMode: .sentencePiece(decoder), addedTokens: added, matchesAddedTokens: false,
                         postProcessorDescription: "none (sentencepiece's encode adds no BOS/EOS)", config: config)
    }
}
