// A `tokenizer.model`'s normalization when it has no character map ("identity"), as
// sentencepiece's `Normalizer::Normalize` does it:
//
//   1. with remove_extra_whitespaces, leading spaces are dropped; a text of spaces only
//      normalizes to nothing;
//   2. with add_dummy_prefix, one space symbol goes first;
//   3. the text is copied unit by unit — a user-defined symbol is one unit, any other character
//      another — where, with remove_extra_whitespaces, the spaces at the start of a unit are
//      dropped when the previous unit ended with a space (so runs of spaces become one);
//      with escape_whitespaces every space becomes "▁" (U+2581);
//   4. with remove_extra_whitespaces, trailing space symbols are dropped — including "▁"
//      characters the text itself ended with, as sentencepiece does.
// Only U+0020 counts as a space. The cost is O(n).

/// sentencepiece's normalization without a character map.
struct SentencePieceNormalizer: Sendable {
    let addDummyPrefix: Bool
    let removeExtraWhitespaces: Bool
    let escapeWhitespaces: Bool
    /// The user-defined symbols, matched as units (longest first).
    let userDefined: PrefixMatcher

    static let space: [UInt8] = [0xE2, 0x96, 0x81]
    private static let spacePattern = LiteralPattern([0x20])

    var description: String {
        var flags: [String] = []
        if addDummyPrefix { flags.append("add_dummy_prefix") }
        if removeExtraWhitespaces { flags.append("remove_extra_whitespaces") }
        if escapeWhitespaces { flags.append("escape_whitespaces") }
        return "sentencepiece identity(\(flags.isEmpty ? "no options" : flags.joined(separator: ", ")))"
    }

    /// The length of the unit at `i`: a user-defined symbol, else one character.
    @inline(__always)
    private func unit(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        if let base = p.baseAddress, !userDefined.isEmpty, let m = userDefined.longestMatch(base + i, p.count - i) { return m.length }
        return min(utf8SequenceLength(p[i]), p.count - i)
    }

    /// The normalized text, or nil when it equals the input.
    func normalize(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = p.count
        if n == 0 { return nil }
        // Without white space removal or user-defined symbols every unit is copied: the dummy
        // prefix, then the text with spaces escaped (Llama 2, Phi-3, Gemma), in one pass.
        if !removeExtraWhitespaces && userDefined.isEmpty {
            let prefix: [UInt8] = addDummyPrefix ? (escapeWhitespaces ? SentencePieceNormalizer.space : [0x20]) : []
            if escapeWhitespaces, let out = Normalizer.replace(p, SentencePieceNormalizer.spacePattern, SentencePieceNormalizer.space, prefix: prefix) {
                return out
            }
            return prefix.isEmpty ? nil : prefix + Array(p)
        }
        var i = 0
        if removeExtraWhitespaces {
            while i < n {
                let len = unit(p, i)
                if !(len == 1 && p[i] == 0x20) { break }
                i += len
            }
            if i == n { return [] }
        }
        let ws: [UInt8] = escapeWhitespaces ? SentencePieceNormalizer.space : [0x20]
        var out: [UInt8] = []
        out.reserveCapacity(n + n / 2 + 4)
        if addDummyPrefix { out += ws }
        var previousSpace = removeExtraWhitespaces
        while i < n {
            let len = unit(p, i)
            var s = i
            let e = i + len
            if previousSpace { while s < e && p[s] == 0x20 { s += 1 } }
            if s < e {
                for k in s..<e {
                    if escapeWhitespaces && p[k] == 0x20 { out += SentencePieceNormalizer.space } else { out.append(p[k]) }
                }
                previousSpace = p[e - 1] == 0x20
            }
            i = e
            if !removeExtraWhitespaces { previousSpace = false }
        }
        if removeExtraWhitespaces {
            while out.count >= ws.count && out.suffix(ws.count).elementsEqual(ws) { out.removeLast(ws.count) }
        }
        if out.count == n && out.elementsEqual(p) { return nil }
        return out
    }
}

/// The longest of a set of byte strings that starts at a position (sentencepiece's
/// `PrefixMatcher` over the user-defined symbols): a trie walk, O(length of the longest match
/// attempt) per position whatever the number of symbols.
struct PrefixMatcher: Sendable {
    /// Trie edges: `node << 8 | byte` → child node (node 0 is the root).
    private let edges: [Int: Int]
    /// The id ending at each node, or `UInt32.max`.
    private let ids: [UInt32]
    /// Bytes that start some entry (a quick rejection).
    private let starts: [Bool]
    let isEmpty: Bool

    init(_ entries: [(bytes: [UInt8], id: UInt32)]) {
        var edges: [Int: Int] = [:]
        var ids: [UInt32] = [UInt32.max]
        var starts = [Bool](repeating: false, count: 256)
        for e in entries where !e.bytes.isEmpty {
            starts[Int(e.bytes[0])] = true
            var node = 0
            for b in e.bytes {
                let key = node << 8 | Int(b)
                if let child = edges[key] { node = child } else {
                    ids.append(UInt32.max)
                    edges[key] = ids.count - 1
                    node = ids.count - 1
                }
            }
            if ids[node] == UInt32.max { ids[node] = e.id }  // the first of equal entries
        }
        self.edges = edges
        self.ids = ids
        self.starts = starts
        isEmpty = ids.count == 1
    }

    /// The longest entry that `p[0..<n]` starts with.
    @inline(__always)
    func longestMatch(_ p: UnsafePointer<UInt8>, _ n: Int) -> (length: Int, id: UInt32)? {
        guard n > 0, starts[Int(p[0])] else { return nil }
        var node = 0
        var best: (length: Int, id: UInt32)?
        for k in 0..<n {
            guard let child = edges[node << 8 | Int(p[k])] else { break }
            node = child
            if ids[node] != UInt32.max { best = (k + 1, ids[node]) }
        }
        return best
    }
}
