// SentencePiece-style BPE in a tokenizer.json (Llama 2, Phi-3, Mistral, Gemma): a word starts
// as one symbol per character, not per byte, as HF `tokenizers`' `BPE::merge_word` builds it:
//
//   - a character in the vocabulary → its id;
//   - else, under `byte_fallback`, when every one of its UTF-8 bytes has a `<0xXX>` token →
//     those ids, one per byte;
//   - else, with an `unk_token` → the unknown id; under `fuse_unk` a run of unknown characters
//     gives one. (As in HF, an unknown id still pending when byte-fallback ids are added comes
//     after them: it is only written before the next known character or at the end.)
//   - else the character is dropped.
// `continuing_subword_prefix` is put before every character but the first and
// `end_of_word_suffix` after the last before the lookup. The symbols then merge exactly as in
// byte-level BPE (BPEMerge.swift): lowest rank first, leftmost on ties.
//
// Cost: one table read per ASCII character, one hash probe per other character, then the merge
// (O(n) per merge step for short words, O(n log n) for long ones). The merge's first round —
// the rank of every adjacent pair — reads a dense 129 × 129 table for pairs of ASCII characters
// and "▁" (most pairs of Latin-script text) instead of probing the pair table.

/// How a character-level BPE starts its words.
struct CharacterSymbols: Sendable {
    /// The token id of each ASCII character, or `BPEModel.noId`.
    let ascii: [UInt32]
    /// HF `continuing_subword_prefix` / `end_of_word_suffix` (empty when unset).
    let prefix: [UInt8]
    let suffix: [UInt8]
    /// `pairs.get` for the tokens of two small characters: index `a * 129 + b`, where a small
    /// character is an ASCII character (its code) or "▁" (128).
    let smallPairs: [UInt64]
    static let notSmall: Int32 = 255

    /// - Parameter pairs: the merge rules, complete (the small-pair table is read from them).
    init(lookup: BytesToId, pairs: PairTable, prefix: [UInt8] = [], suffix: [UInt8] = []) {
        var small = [UInt32](repeating: BPEModel.noId, count: 129)
        for b in 0..<128 {
            var byte = UInt8(b)
            let id = lookup.get(&byte, 1)
            if id != BytesToId.empty { small[b] = id }
        }
        var marker: [UInt8] = [0xE2, 0x96, 0x81]
        let m = lookup.get(&marker, 3)
        if m != BytesToId.empty { small[128] = m }
        var table = [UInt64](repeating: PairTable.missing, count: 129 * 129)
        for a in 0..<129 where small[a] != BPEModel.noId {
            for b in 0..<129 where small[b] != BPEModel.noId { table[a * 129 + b] = pairs.get(small[a], small[b]) }
        }
        ascii = Array(small[0..<128])
        smallPairs = table
        self.prefix = prefix
        self.suffix = suffix
    }

    /// The small-character index of the token `id` for the character `p[0..<len]`, or `notSmall`.
    @inline(__always)
    static func smallIndex(_ p: UnsafePointer<UInt8>, _ len: Int) -> Int32 {
        if len == 1 { return p[0] < 0x80 ? Int32(p[0]) : notSmall }
        return len == 3 && p[0] == 0xE2 && p[1] == 0x96 && p[2] == 0x81 ? 128 : notSmall
    }
}

/// The length of the UTF-8 sequence led by `b` (1 for a stray continuation byte).
@inline(__always)
func utf8SequenceLength(_ b: UInt8) -> Int {
    b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
}

extension BPEModel {
    /// The id of the character `p[0..<len]`, or `noId`.
    @inline(__always)
    func characterId(_ p: UnsafePointer<UInt8>, _ len: Int, _ ascii: UnsafePointer<UInt32>) -> UInt32 {
        if len == 1 { return p[0] < 0x80 ? ascii[Int(p[0])] : BPEModel.noId }
        let id = lookup.get(p, len)
        return id == BytesToId.empty ? BPEModel.noId : id
    }

    /// Appends the ids of one word `p[0..<n]` (valid UTF-8) of a character-level BPE.
    func encodeCharacters(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32], scratch: MergeScratch) {
        guard let chars = characters, n > 0 else { return }
        let affixed = !chars.prefix.isEmpty || !chars.suffix.isEmpty
        // Byte fallback gives one symbol per byte of the looked-up string (affixes included).
        scratch.reserve(affixed ? n * (1 + chars.prefix.count + chars.suffix.count) + 1 : n + 1)
        let ids = scratch.ids, small = scratch.next
        var count = 0
        var pendingUnknown = false
        var buffer: [UInt8] = []
        chars.ascii.withUnsafeBufferPointer { asciiBuffer in
            guard let ascii = asciiBuffer.baseAddress else { return }
            var i = 0
            while i < n {
                let len = min(utf8SequenceLength(p[i]), n - i)
                var id: UInt32
                if affixed {
                    buffer.removeAll(keepingCapacity: true)
                    if i > 0 { buffer += chars.prefix }
                    buffer.append(contentsOf: UnsafeBufferPointer(start: p + i, count: len))
                    if i + len == n { buffer += chars.suffix }
                    id = buffer.withUnsafeBufferPointer { b in
                        b.baseAddress.map { characterId($0, b.count, ascii) } ?? BPEModel.noId
                    }
                } else {
                    id = characterId(p + i, len, ascii)
                }
                if id != BPEModel.noId {
                    if pendingUnknown, let unk = unkId { small[count] = CharacterSymbols.notSmall; ids[count] = unk; count += 1; pendingUnknown = false }
                    small[count] = affixed ? CharacterSymbols.notSmall : CharacterSymbols.smallIndex(p + i, len)
                    ids[count] = id
                    count += 1
                } else if let fb = byteFallbackIds,
                          affixed ? buffer.allSatisfy({ fb[Int($0)] != BPEModel.noId })
                                  : (0..<len).allSatisfy({ fb[Int(p[i + $0])] != BPEModel.noId }) {
                    if affixed {
                        for b in buffer { small[count] = CharacterSymbols.notSmall; ids[count] = fb[Int(b)]; count += 1 }
                    } else {
                        for k in 0..<len { small[count] = CharacterSymbols.notSmall; ids[count] = fb[Int(p[i + k])]; count += 1 }
                    }
                } else if let unk = unkId {
                    if pendingUnknown && !fuseUnk { small[count] = CharacterSymbols.notSmall; ids[count] = unk; count += 1 }
                    pendingUnknown = true
                }
                i += len
            }
        }
        if pendingUnknown, let unk = unkId { small[count] = CharacterSymbols.notSmall; ids[count] = unk; count += 1 }
        mergeSymbols(count, into: &out, scratch: scratch, tiesByPosition: false)
    }

    /// Merges the `count` symbols in `scratch.ids` and appends the result; `scratch.next` holds
    /// each symbol's small-character index (or `notSmall`), for the first round.
    @inline(__always)
    func mergeSymbols(_ count: Int, into out: inout [UInt32], scratch: MergeScratch, tiesByPosition: Bool) {
        if count == 0 { return }
        let ids = scratch.ids, small = scratch.next
        if count == 1 { out.append(ids[0]); return }
        let ranks = scratch.ranks
        if let table = characters?.smallPairs {
            table.withUnsafeBufferPointer { t in
                for k in 0..<(count - 1) {
                    let a = Int(small[k]), b = Int(small[k + 1])
                    ranks[k] = a < 129 && b < 129 ? t[a * 129 + b] : pairs.get(ids[k], ids[k + 1])
                }
            }
        } else {
            for k in 0..<(count - 1) { ranks[k] = pairs.get(ids[k], ids[k + 1]) }
        }
        let merged: Int
        if count > shortPieceLimit {
            merged = mergeLong(count, scratch: scratch)
        } else if tiesByPosition {
            merged = mergeShort(count, scratch: scratch, tiesByPosition: true)
        } else {
            merged = mergeShort(count, scratch: scratch, tiesByPosition: false)
        }
        out.append(contentsOf: UnsafeBufferPointer(start: ids, count: merged))
    }
}
