// The hot loop: byte-pair merging of one pre-token.
//
// A pre-token starts as one id per byte. Repeatedly, the adjacent pair with the lowest merge rank
// is replaced by its merged id; among equal ranks the leftmost pair goes first. This is exactly
// HF `tokenizers`' BPE (ranks from merges.txt order) and tiktoken's `byte_pair_encode` (the rank
// of a pair is the rank of the concatenated bytes, which the loader turns into pair rules).
//
// Two algorithms, chosen by length:
// - up to `shortPieceLimit` bytes: a flat array of packed pair ranks, scanned for the minimum at
//   each step and patched in place after a merge. O(n²) in theory, but n is small, the arrays
//   live in cache, and there is no heap bookkeeping. Nearly all pre-tokens of natural text are
//   under 16 bytes.
// - longer: a doubly linked list of symbols and a binary heap of candidate merges keyed by
//   (rank, position), with stale entries skipped on pop. O(n log n): a 1 MB run of one letter is
//   a single pre-token and must not be quadratic.
// The limit of 64 is where the heap's constant factor stops losing to the scan in
// `finetok-bench` (pieces of 16–256 bytes); either side gives identical ids.
//
// Before merging, a piece of one byte maps straight to its id, and when `wholePieceFirst` is set
// (tiktoken files, and HF `ignore_merges`) a piece that is itself a token is emitted directly,
// exactly as those references do.

let shortPieceLimit = 64

/// Scratch buffers reused across pieces by one encoding thread.
final class MergeScratch {
    var ids: [UInt32] = []
    var pairs: [UInt64] = []
    var next: [Int32] = []
    var prev: [Int32] = []
    var heap: [HeapEntry] = []

    struct HeapEntry {
        /// `rank << 32 | position`: the min-heap order (lowest rank, then leftmost).
        var key: UInt64
        var left: UInt32
        var right: UInt32
        var merged: UInt32
    }
}

extension BPEModel {
    /// Appends the ids of one pre-token `p[0..<n]` (raw bytes) to `out`.
    @inline(__always)
    func encodePiece(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32], scratch: MergeScratch) {
        if n == 1 {
            let id = byteIds[Int(p[0])]
            if id != BPEModel.noId { out.append(id) } else { appendUnknownByte(p[0], into: &out) }
            return
        }
        if wholePieceFirst {
            let id = tokens.bytes.withUnsafeBytes { sb in
                tokens.offsets.withUnsafeBufferPointer { ob in lookup.get(p, n, store: sb, offsets: ob) }
            }
            if id != BytesToId.empty { out.append(id); return }
        }
        if n <= shortPieceLimit {
            mergeShort(p, n, into: &out, scratch: scratch)
        } else {
            mergeLong(p, n, into: &out, scratch: scratch)
        }
    }

    /// A byte with no token of its own: `<0xXX>` under byte_fallback, else the unknown token,
    /// else dropped (what HF's BPE does when neither is configured).
    func appendUnknownByte(_ b: UInt8, into out: inout [UInt32]) {
        if let fb = byteFallbackIds, fb[Int(b)] != BPEModel.noId {
            out.append(fb[Int(b)])
        } else if let unk = unkId {
            if !(fuseUnk && out.last == unk) { out.append(unk) }
        }
    }

    /// Initial symbols of a piece; returns false when some byte has no id (slow path).
    @inline(__always)
    func initialIds(_ p: UnsafePointer<UInt8>, _ n: Int, _ ids: inout [UInt32]) -> Bool {
        ids.removeAll(keepingCapacity: true)
        var ok = true
        for i in 0..<n {
            let id = byteIds[Int(p[i])]
            if id == BPEModel.noId { ok = false }
            ids.append(id)
        }
        return ok
    }

    func mergeShort(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32], scratch: MergeScratch) {
        guard initialIds(p, n, &scratch.ids) else { return mergeWithUnknownBytes(p, n, into: &out, scratch: scratch) }
        var count = n
        scratch.pairs.removeAll(keepingCapacity: true)
        scratch.ids.withUnsafeMutableBufferPointer { ids in
            for i in 0..<(count - 1) { scratch.pairs.append(pairs.get(ids[i], ids[i + 1])) }
            scratch.pairs.withUnsafeMutableBufferPointer { pr in
                while count > 1 {
                    // Lowest packed value = lowest rank; strict < keeps the leftmost on ties.
                    var best = PairTable.missing
                    var at = -1
                    for i in 0..<(count - 1) where pr[i] < best {
                        best = pr[i]
                        at = i
                    }
                    if at < 0 { break }
                    ids[at] = UInt32(truncatingIfNeeded: best)
                    // Remove symbol at+1 and pair at+1 by shifting the tails left.
                    var k = at + 1
                    while k < count - 1 { ids[k] = ids[k + 1]; k += 1 }
                    k = at + 1
                    while k < count - 2 { pr[k] = pr[k + 1]; k += 1 }
                    count -= 1
                    if at > 0 { pr[at - 1] = pairs.get(ids[at - 1], ids[at]) }
                    if at < count - 1 { pr[at] = pairs.get(ids[at], ids[at + 1]) }
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: ids[0..<count]))
        }
    }

    func mergeLong(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32], scratch: MergeScratch) {
        guard initialIds(p, n, &scratch.ids) else { return mergeWithUnknownBytes(p, n, into: &out, scratch: scratch) }
        scratch.next.removeAll(keepingCapacity: true)
        scratch.prev.removeAll(keepingCapacity: true)
        for i in 0..<n {
            scratch.next.append(i + 1 < n ? Int32(i + 1) : -1)
            scratch.prev.append(Int32(i - 1))
        }
        var heap = Heap(storage: scratch.heap)
        let ids0 = scratch.ids
        for i in 0..<(n - 1) {
            let v = pairs.get(ids0[i], ids0[i + 1])
            if v != PairTable.missing {
                heap.push(.init(key: (v >> 32) << 32 | UInt64(i), left: ids0[i], right: ids0[i + 1],
                                merged: UInt32(truncatingIfNeeded: v)))
            }
        }
        scratch.ids.withUnsafeMutableBufferPointer { ids in
            scratch.next.withUnsafeMutableBufferPointer { next in
                scratch.prev.withUnsafeMutableBufferPointer { prev in
                    while let e = heap.pop() {
                        let pos = Int(e.key & 0xFFFF_FFFF)
                        let nx = Int(next[pos])
                        // Stale if either symbol changed since the entry was pushed
                        // (a merged-away symbol is marked with an id of noId).
                        guard nx >= 0, ids[pos] == e.left, ids[nx] == e.right else { continue }
                        ids[pos] = e.merged
                        ids[nx] = BPEModel.noId
                        let after = Int(next[nx])
                        next[pos] = Int32(after)
                        if after >= 0 { prev[after] = Int32(pos) }
                        let rank = e.key >> 32
                        _ = rank
                        let pv = Int(prev[pos])
                        if pv >= 0 {
                            let v = pairs.get(ids[pv], ids[pos])
                            if v != PairTable.missing {
                                heap.push(.init(key: (v >> 32) << 32 | UInt64(pv), left: ids[pv], right: ids[pos],
                                                merged: UInt32(truncatingIfNeeded: v)))
                            }
                        }
                        if after >= 0 {
                            let v = pairs.get(ids[pos], ids[after])
                            if v != PairTable.missing {
                                heap.push(.init(key: (v >> 32) << 32 | UInt64(pos), left: ids[pos], right: ids[after],
                                                merged: UInt32(truncatingIfNeeded: v)))
                            }
                        }
                    }
                    var i = 0
                    while i >= 0 {
                        out.append(ids[i])
                        i = Int(next[i])
                    }
                }
            }
        }
        scratch.heap = heap.storage
    }

    /// Pieces containing bytes without ids (only in unusual vocabularies): merge the known runs
    /// and emit fallback/unknown ids for the rest, as HF does symbol by symbol.
    func mergeWithUnknownBytes(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32], scratch: MergeScratch) {
        // HF builds the word from known symbols only (unknown ones become unk/fallback symbols,
        // which never merge), so each maximal run of known bytes merges on its own.
        var i = 0
        while i < n {
            if byteIds[Int(p[i])] == BPEModel.noId {
                appendUnknownByte(p[i], into: &out)
                i += 1
                continue
            }
            var j = i
            while j < n && byteIds[Int(p[j])] != BPEModel.noId { j += 1 }
            let len = j - i
            if len == 1 { out.append(byteIds[Int(p[i])]) } else if len <= shortPieceLimit {
                mergeShort(p + i, len, into: &out, scratch: scratch)
            } else {
                mergeLong(p + i, len, into: &out, scratch: scratch)
            }
            i = j
        }
    }
}

/// A binary min-heap on `key`.
struct Heap {
    var storage: [MergeScratch.HeapEntry]

    init(storage: [MergeScratch.HeapEntry]) {
        self.storage = storage
        self.storage.removeAll(keepingCapacity: true)
    }

    mutating func push(_ e: MergeScratch.HeapEntry) {
        storage.append(e)
        var i = storage.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if storage[parent].key <= e.key { break }
            storage[i] = storage[parent]
            i = parent
        }
        storage[i] = e
    }

    mutating func pop() -> MergeScratch.HeapEntry? {
        guard let top = storage.first else { return nil }
        let last = storage.removeLast()
        if storage.isEmpty { return top }
        var i = 0
        let n = storage.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            var c = l
            if l + 1 < n && storage[l + 1].key < storage[l].key { c = l + 1 }
            if storage[c].key >= last.key { break }
            storage[i] = storage[c]
            i = c
        }
        storage[i] = last
        return top
    }
}
