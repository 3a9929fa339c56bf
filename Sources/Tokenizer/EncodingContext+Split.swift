// The hot loop of byte-level encoding with one split pattern (GPT-2, cl100k / Llama 3, Qwen2,
// o200k) — what most texts go through.
//
// Per piece:
//   1. where the piece ends: for GPT-2, cl100k and Qwen2, the next set bit of the 64-byte
//      block's start mask (PieceStarts.swift); otherwise, and where the masks cannot decide,
//      the fast scanner (SplitPattern+ASCII.swift; the scalar scanner for what is not ASCII);
//   2. a piece of ≤ 8 bytes (~90% of pieces) is looked up in the hot cache (PieceCache.swift)
//      with its bytes as the key: one 8-byte load masked to the piece's length, one multiply
//      for the slot, one compare; a hit writes its 1–3 ids;
//   3. a piece of 9–16 bytes (~8%) is looked up the same way in the medium cache, keyed by its
//      first and last eight bytes;
//   4. otherwise (EncodingContext.swift): a single byte's id, the piece as a whole token, the
//      second-level cache, a merge (BPEMerge.swift); the result goes into the hot or medium
//      cache.
// Ids go to the context's staging buffer (4,096 words, so it stays in the L1 cache), which is
// appended to the caller's array when it is nearly full and at the end — no per-id array
// bookkeeping, and no buffer the size of the text (a 6 MB document would touch 24 MB of fresh
// pages). A piece of n bytes never gives more than n ids, a hot hit writes three words and a
// medium hit five whatever their count, and a medium piece has at least nine bytes: a piece
// writes at most n + 4 words. The loop runs over stretches of text short enough for that bound
// to fit the room left, so the per-piece path has no room check.

/// A pattern's fast piece scanner, as a type so that the loop is specialized for each.
protocol PieceScanner {
    static func end(_ s: Scanner, _ i: Int) -> Int
    /// Whether piece ends come from the start masks of 64-byte blocks where they can
    /// (PieceStarts.swift), `end` elsewhere.
    static var usesBlockStarts: Bool { get }
    /// The block cursor's slow step (`StartMasks.end`): the end of the piece at `i` and the
    /// masks' state after it.
    static func blockEnd(_ s: Scanner, _ i: Int, base: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int)
}

extension PieceScanner {
    static var usesBlockStarts: Bool { false }
    /// No masks: the scanner's end, and no state.
    static func blockEnd(_ s: Scanner, _ i: Int, base: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int) {
        (end(s, i), -1, 0, undecided)
    }
}

enum GPT2Pieces: PieceScanner {
    @inline(__always) static func end(_ s: Scanner, _ i: Int) -> Int { s.gpt2Fast(i) }
    static var usesBlockStarts: Bool { true }
    @inline(__always)
    static func blockEnd(_ s: Scanner, _ i: Int, base: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int) {
        GPT2Starts.end(s, i, base: base, undecided: undecided)
    }
}

enum CL100kPieces: PieceScanner {
    @inline(__always) static func end(_ s: Scanner, _ i: Int) -> Int { s.cl100kFast(i, maxDigits: 3) }
    static var usesBlockStarts: Bool { true }
    @inline(__always)
    static func blockEnd(_ s: Scanner, _ i: Int, base: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int) {
        CL100kStarts.end(s, i, base: base, undecided: undecided)
    }
}

enum Qwen2Pieces: PieceScanner {
    @inline(__always) static func end(_ s: Scanner, _ i: Int) -> Int { s.cl100kFast(i, maxDigits: 1) }
    static var usesBlockStarts: Bool { true }
    @inline(__always)
    static func blockEnd(_ s: Scanner, _ i: Int, base: Int, undecided: Int) -> (end: Int, base: Int, rest: UInt64, undecided: Int) {
        Qwen2Starts.end(s, i, base: base, undecided: undecided)
    }
}

enum O200kPieces: PieceScanner {
    @inline(__always) static func end(_ s: Scanner, _ i: Int) -> Int { s.o200kFast(i) }
}

/// Whether the loop counts pieces by length for `CacheStats` (a type, so that the loop without
/// counters keeps them out of its registers).
protocol PieceCounting { static var on: Bool { get } }
enum Counting: PieceCounting { static var on: Bool { true } }
enum NotCounting: PieceCounting { static var on: Bool { false } }

extension EncodingContext {
    /// Appends the ids of `p` split by `pattern`, each piece encoded by `model`.
    func encodeSplit(_ p: UnsafeBufferPointer<UInt8>, _ pattern: SplitPattern, _ model: BPEModel, into out: inout [UInt32]) {
        if countsPieces {
            switch pattern {
            case .gpt2: encodeSplit(p, GPT2Pieces.self, Counting.self, model, into: &out)
            case .cl100k: encodeSplit(p, CL100kPieces.self, Counting.self, model, into: &out)
            case .qwen2: encodeSplit(p, Qwen2Pieces.self, Counting.self, model, into: &out)
            case .o200k: encodeSplit(p, O200kPieces.self, Counting.self, model, into: &out)
            }
            return
        }
        switch pattern {
        case .gpt2: encodeSplit(p, GPT2Pieces.self, NotCounting.self, model, into: &out)
        case .cl100k: encodeSplit(p, CL100kPieces.self, NotCounting.self, model, into: &out)
        case .qwen2: encodeSplit(p, Qwen2Pieces.self, NotCounting.self, model, into: &out)
        case .o200k: encodeSplit(p, O200kPieces.self, NotCounting.self, model, into: &out)
        }
    }

    @inline(__always)
    private func encodeSplit<S: PieceScanner, C: PieceCounting>(_ p: UnsafeBufferPointer<UInt8>, _: S.Type, _: C.Type,
                                                                _ model: BPEModel, into out: inout [UInt32]) {
        let n = p.count
        guard n > 0, let base = p.baseAddress else { return }
        // A long text gets its room at once: a growing array copies its ids and faults in fresh
        // pages at every doubling. A third of the bytes covers natural text (en has ~4.5 bytes a
        // token); denser text grows from there as usual. Capacity never written costs no memory.
        let expected = out.count &+ n / 3
        if n > 1 << 16 && out.capacity < expected { out.reserveCapacity(max(expected, 2 &* out.capacity)) }
        let scanner = Scanner(p: p, end: n)
        // Piece starts from block masks (usesBlockStarts): the block, its starts after the
        // current piece, the last block the masks could not decide.
        var startsBase = -1, startsRest: UInt64 = 0, undecided = -1
        var dst = reserveBuffer(EncodingContext.stagingIds)
        var room = bufferCapacity
        let hot = self.hot.slots, medium = self.medium.slots
        let raw = UnsafeRawPointer(base)
        var count = 0
        var shortPieces = 0, mediumPieces = 0, longPieces = 0
        var i = 0
        // Wrapping arithmetic: offsets are bounded by n, so no overflow checks are needed.
        while i < n {
            // A stretch of the text whose pieces surely fit in the room left, so that the piece
            // loop checks nothing: a piece of len bytes writes at most len + 4 words, and one of
            // ≤ 16 bytes at most 20 (long pieces check for themselves below).
            if room &- count < 64 {
                out.append(contentsOf: UnsafeBufferPointer(start: dst, count: count))
                count = 0
            }
            let stop = min(n, i &+ (room &- count &- 20) / 5)
            while i < stop {
                let e: Int
                if S.usesBlockStarts {
                    if startsRest != 0 {
                        e = startsBase &+ startsRest.trailingZeroBitCount
                        startsRest &= startsRest &- 1
                    } else {
                        (e, startsBase, startsRest, undecided) = S.blockEnd(scanner, i, base: startsBase, undecided: undecided)
                    }
                } else {
                    e = S.end(scanner, i)
                }
                let len = e &- i
                if len <= 8 {
                    if C.on { shortPieces &+= 1 }
                    // One masked 8-byte load where the text goes on (packShort's loads otherwise).
                    let key = i &+ 8 <= n
                        ? raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & (UInt64.max &>> UInt64(64 &- 8 &* len))
                        : packShort(base + i, len)
                    count &+= encodeShort(model, base + i, len, key: key, hot, dst: dst + count)
                } else if len <= 16 {
                    if C.on { mediumPieces &+= 1 }
                    count &+= encodeMedium(model, base + i, len, medium, dst: dst + count)
                } else {
                    if C.on { longPieces &+= 1 }
                    if count &+ len &+ 4 > room {
                        out.append(contentsOf: UnsafeBufferPointer(start: dst, count: count))
                        count = 0
                        if len &+ 4 > room {
                            dst = reserveBuffer(len &+ 4)
                            room = bufferCapacity
                        }
                    }
                    count &+= encodeLongPiece(model, base + i, len, dst: dst + count)
                }
                i = e
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(start: dst, count: count))
        if C.on {
            stats.shortPieces &+= shortPieces
            stats.mediumPieces &+= mediumPieces
            stats.longPieces &+= longPieces
        }
    }
}
