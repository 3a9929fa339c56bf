// What chat builds ask of a tokenizer beyond `encode`: which added tokens a text contains, an
// encoding in which some byte ranges never become added tokens (message contents, with
// `--content-specials text`), and where in the text each token ends (to label the tokens that
// overlap an assistant turn).
//
// Token ranges are found by walking the tokens' surfaces — the bytes each token stands for in the
// normalized, pre-tokenized text — against the original text, with the edits the pipelines in
// use make: "▁" for a space (Metaspace, Replace) or inserted before a word (Prepend, a dummy
// prefix), a space inserted by ByteLevel's add_prefix_space, white space removed (an added
// token's lstrip/rstrip — the token's range takes it, as HF's offsets do — Strip,
// sentencepiece's remove_extra_whitespaces), and a character
// changed by NFC or Lowercase (one scalar for one scalar). An `<unk>` stands for the characters
// up to where the next token's surface matches. The walk is exact where the normalizer changes
// nothing else (every byte-level and SentencePiece tokenizer on text that is already NFC);
// otherwise a token end can be off by the characters a normalization merged. O(text + ids).

extension Tokenizer {
    /// The added tokens `encode` matches in `text` before normalization (special tokens such as
    /// `<|im_end|>`), in order: the byte range of the token's own text (`content`), the range
    /// its match takes (with the white space an lstrip / rstrip token absorbs), and its id.
    public func addedTokenMatches(in text: UnsafeBufferPointer<UInt8>) -> [(content: Range<Int>, range: Range<Int>, id: UInt32)] {
        var found: [(content: Range<Int>, range: Range<Int>, id: UInt32)] = []
        if rawMatcher.isEmpty { return found }
        rawMatcher.split(text) { s, e, id in
            if id != TokenMatcher.textPiece { found.append((contentRange(s, e, id, text), s..<e, id)) }
        }
        return found
    }

    /// Where an added token's own text lies in its match `s..<e` (which may hold stripped white
    /// space around it).
    private func contentRange(_ s: Int, _ e: Int, _ id: UInt32, _ text: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        guard let content = addedById[id]?.token.content.utf8, content.count < e - s else { return s..<e }
        var start = s
        while start + content.count <= e {
            if UnsafeBufferPointer(rebasing: text[start..<(start + content.count)]).elementsEqual(content) { return start..<(start + content.count) }
            start += 1
        }
        return s..<e
    }

    /// Encodes `bytes` (valid UTF-8) as `encode(utf8:into:context:)` does, except that an added
    /// token matched before normalization is left as text when its own text overlaps one of the
    /// `plain` byte ranges (sorted, disjoint): those ranges are encoded as HF's
    /// `split_special_tokens=True` would encode them.
    ///
    /// Added tokens matched after normalization (`normalized: true`, rare for special tokens)
    /// are still matched inside `plain`.
    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt32], context: EncodingContext,
                       plain: [Range<Int>]) {
        if plain.isEmpty || rawMatcher.isEmpty {
            encode(utf8: bytes, into: &out, context: context)
            return
        }
        // The context's piece caches hold one tokenizer's ids (EncodingContext.bind).
        context.bind(to: self)
        var textStart = -1   // start of the text run being gathered, or -1
        var k = 0            // first plain range that may still overlap
        func flush(upTo end: Int) {
            if textStart >= 0 && end > textStart {
                encodeNormalizing(UnsafeBufferPointer(rebasing: bytes[textStart..<end]), atStart: textStart == 0, into: &out, context)
            }
            textStart = -1
        }
        rawMatcher.split(bytes) { s, e, id in
            var overlapsPlain = false
            if id != TokenMatcher.textPiece {
                let c = contentRange(s, e, id, bytes)
                while k < plain.count && plain[k].upperBound <= c.lowerBound { k += 1 }
                overlapsPlain = k < plain.count && plain[k].lowerBound < c.upperBound
            }
            if id == TokenMatcher.textPiece || overlapsPlain {
                if textStart < 0 { textStart = s }
            } else {
                flush(upTo: s)
                out.append(id)
            }
        }
        flush(upTo: bytes.count)
    }

    /// For each of `ids` (the encoding of `text`), the byte range of `text` it stands for, as HF
    /// `tokenizers`' offsets give it (in bytes): ranges follow each other; white space an added
    /// token strips belongs to it; a token made only of inserted characters (a "▁" a Prepend
    /// normalizer put before a word) covers the character it was put before, as the token after
    /// it does.
    /// - Complexity: O(text + total surface bytes of `ids`).
    public func tokenRanges(_ ids: [UInt32], text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        let n = text.count
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(ids.count)
        var j = 0
        var s: [UInt8] = []
        s.reserveCapacity(64)
        for (t, id) in ids.enumerated() {
            let start = j
            if id == model.unkId && addedById[id] == nil {
                // At least one character, then up to where the next token's surface fits.
                if j < n { j += scalarLength(text[j]) }
                if t + 1 < ids.count, let next = surface(ids[t + 1]).first {
                    while j < n && !startsLike(next, text[j]) { j += scalarLength(text[j]) }
                }
                ranges.append(start..<j)
                continue
            }
            surface(id, into: &s)
            var i = 0
            var inserted = false
            while i < s.count {
                if j < n && s[i] == text[j] { i += 1; j += 1; continue }
                if isMetaspace(s, i) {
                    if j < n && text[j] == 0x20 { j += 1 } else { inserted = true }
                    i += 3
                    continue
                }
                if s[i] == 0x20 { i += 1; inserted = true; continue }          // an inserted space
                if j < n && isASCIISpace(text[j]) { j += 1; continue }        // white space stripped
                // A character the normalizer changed: the text's next characters as NFC /
                // Lowercase make them, matched against the surface as far as they go.
                if j < n, let (changed, end) = normalizedCharacters(text, at: j), !changed.isEmpty,
                   s[i...].starts(with: changed.prefix(s.count - i)) {
                    i += min(changed.count, s.count - i)
                    j = end
                    continue
                }
                i += scalarLength(s[i])                                        // anything else: one for one
                if j < n { j += scalarLength(text[j]) }
            }
            // An rstrip token's match takes the white space after it (as HF's offsets do).
            if let added = addedById[id], added.token.rstrip {
                while j < n && isASCIISpace(text[j]) { j += 1 }
            }
            if j == start && inserted && j < n {
                ranges.append(j..<(j + scalarLength(text[j])))
            } else {
                ranges.append(start..<j)
            }
        }
        return ranges
    }

    /// The bytes token `id` stands for in normalized, pre-tokenized text: an added token's
    /// content, a byte-fallback token's byte, a model token's bytes (its string for
    /// character-level and SentencePiece models).
    func surface(_ id: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        surface(id, into: &bytes)
        return bytes
    }

    /// `surface(id)` written into `bytes` (emptied first, its storage kept): no allocation per
    /// token once the buffer has grown.
    func surface(_ id: UInt32, into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        if let added = addedById[id] { bytes.append(contentsOf: added.string.utf8); return }
        guard Int(id) < model.tokens.count, model.tokens.present[Int(id)] else { return }
        let r = model.tokens.range(Int(id))
        bytes.append(contentsOf: UnsafeBufferPointer(start: model.tokens.bytes + r.lowerBound, count: r.count))
        // A byte-fallback token is spelled `<0xXX>`: read the byte from the spelling, then check
        // the table maps it back to this id (O(1) per token).
        if let fb = model.byteFallbackIds, bytes.count == 6, bytes[0] == 0x3C, bytes[5] == 0x3E,
           let b = Decoder.byteFallbackByte(String(decoding: bytes, as: UTF8.self)), fb[Int(b)] == id {
            if case .byteLevel = kind {} else { bytes = [b]; return }
        }
        if let chars = model.characters {
            // continuing_subword_prefix / end_of_word_suffix are not text.
            if !chars.prefix.isEmpty && bytes.starts(with: chars.prefix) { bytes.removeFirst(chars.prefix.count) }
            if !chars.suffix.isEmpty && bytes.count >= chars.suffix.count && bytes.suffix(chars.suffix.count).elementsEqual(chars.suffix) {
                bytes.removeLast(chars.suffix.count)
            }
        }
    }

    /// The scalar at `j` with the combining marks after it (up to the next NFC-stable scalar),
    /// as the normalizer's NFC and Lowercase steps make them, and where they end in `text`.
    private func normalizedCharacters(_ text: UnsafeBufferPointer<UInt8>, at j: Int) -> ([UInt8], Int)? {
        let n = text.count
        var end = j + scalarLength(text[j])
        while end < n {
            let (v, len) = decodeScalar(text, end)
            if Normalizer.isStable(v) { break }
            end += len
        }
        var bytes = Array(UnsafeBufferPointer(rebasing: text[j..<min(end, n)]))
        var changed = false
        for step in normalizer.steps {
            switch step {
            case .nfc, .lowercase:
                if let out = bytes.withUnsafeBufferPointer({ Normalizer.apply(step, $0) }) { bytes = out; changed = true }
            default: continue
            }
        }
        return changed ? (bytes, min(end, n)) : nil
    }

    private func isMetaspace(_ s: [UInt8], _ i: Int) -> Bool {
        i + 2 < s.count && s[i] == 0xE2 && s[i + 1] == 0x96 && s[i + 2] == 0x81
    }

    /// Whether a surface starting with byte `first` can start at text byte `b`.
    private func startsLike(_ first: UInt8, _ b: UInt8) -> Bool {
        first == b || (first == 0xE2 && b == 0x20) || (first == 0x20)
    }

    private func isASCIISpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    private func scalarLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0..<0xC0: return 1
        case 0xC0..<0xE0: return 2
        case 0xE0..<0xF0: return 3
        default: return 4
        }
    }
}
