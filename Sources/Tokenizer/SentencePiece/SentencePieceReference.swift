// sentencepiece's BPE step by step as bpe_model.cc runs it, on byte ranges of the text rather
// than on a compiled pair table: the exact path for models the table cannot express (UNUSED
// pieces, pieces holding characters that are no piece, single-character CONTROL pieces) and the
// reference the tests compare the fast path with.
//
//   symbols   one per character, or per user-defined symbol (frozen: never merged)
//   agenda    a heap of candidate pairs (score rank, left index); a pair is a candidate when the
//             concatenation of its two symbols is a mergeable piece
//   loop      pop the best; skip it when either symbol changed since (sentencepiece compares
//             lengths); merge; add the new pairs with the left and right neighbours
//   resegment a symbol that is an UNUSED piece is split back into the two symbols that last
//             formed it (recursively), as sentencepiece records them in `rev_merge`
//   output    a piece's id (`PieceToId`: CONTROL/UNKNOWN/BYTE text first, then mergeable pieces,
//             else the unknown id); the unknown id becomes `<0xXX>` ids under byte_fallback, and
//             a run of unknown ids becomes one otherwise
// Cost: O(n log n) for n characters.

enum SentencePieceReference {
    static func encode(_ p: UnsafeBufferPointer<UInt8>, _ spm: SentencePieceBPE, scratch: MergeScratch) -> [UInt32] {
        let n = p.count
        guard n > 0, let base = p.baseAddress else { return [] }
        var start: [Int] = [], length: [Int] = [], frozen: [Bool] = []
        var i = 0
        while i < n {
            if let m = spm.userDefined.longestMatch(base + i, n - i) {
                start.append(i); length.append(m.length); frozen.append(true)
                i += m.length
            } else {
                let len = min(utf8SequenceLength(p[i]), n - i)
                start.append(i); length.append(len); frozen.append(false)
                i += len
            }
        }
        let count = start.count
        var next = (0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }
        var prev = (0..<count).map { $0 - 1 }
        scratch.reserve(count + 1)
        var heap = Heap(storage: scratch.heap)
        var revMerge: [[UInt8]: ([UInt8], [UInt8])] = [:]

        func bytes(_ s: Int, _ len: Int) -> [UInt8] { Array(p[s..<(s + len)]) }
        func maybeAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, !frozen[left], !frozen[right] else { return }
            let size = length[left] + length[right]
            let id = spm.model.lookup.get(base + start[left], size)
            guard id != BytesToId.empty else { return }
            heap.push(.init(key: UInt64(spm.scoreRank[Int(id)]) << 32 | UInt64(left), left: UInt32(left), right: UInt32(right),
                            merged: UInt32(size)))
            if spm.types[Int(id)] == .unused {
                revMerge[bytes(start[left], size)] = (bytes(start[left], length[left]), bytes(start[right], length[right]))
            }
        }

        for k in 1..<max(count, 1) { maybeAdd(k - 1, k) }
        while let top = heap.pop() {
            let left = Int(top.left), right = Int(top.right)
            guard length[left] > 0, length[right] > 0, length[left] + length[right] == Int(top.merged) else { continue }
            length[left] += length[right]
            next[left] = next[right]
            if next[right] >= 0 { prev[next[right]] = left }
            length[right] = 0
            maybeAdd(prev[left], left)
            maybeAdd(left, next[left])
        }

        // Resegment and resolve ids.
        var pieces: [(text: [UInt8], id: UInt32)] = []
        func pieceId(_ w: [UInt8]) -> UInt32 {
            if let id = spm.reserved[w] { return id }
            let id = w.withUnsafeBufferPointer { b in b.baseAddress.map { spm.model.lookup.get($0, b.count) } ?? BytesToId.empty }
            return id == BytesToId.empty ? spm.unkId : id
        }
        func resegment(_ w: [UInt8]) {
            let id = pieceId(w)
            if spm.types[Int(id)] == .unused, let (l, r) = revMerge[w] {
                resegment(l)
                resegment(r)
            } else {
                pieces.append((w, id))
            }
        }
        var k = 0
        while k >= 0 && k < count {
            resegment(bytes(start[k], length[k]))
            k = next[k]
        }
        var out: [UInt32] = []
        var previousUnknown = false
        for (w, id) in pieces {
            let isUnknown = id == spm.unkId
            if isUnknown {
                w.withUnsafeBufferPointer { spm.appendUnknown($0, previousUnknown: previousUnknown, into: &out) }
            } else {
                out.append(id)
            }
            previousUnknown = isUnknown
        }
        return out
    }
}
