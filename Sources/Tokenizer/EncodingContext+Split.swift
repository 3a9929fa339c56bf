// The hot loop of byte-level encoding with one split pattern (GPT-2, cl100k / Llama 3, Qwen2,
// o200k) — what most texts go through.
//
// Per piece:
//   1. the fast scanner finds where the piece ends (SplitPattern+ASCII.swift; the scalar
//      scanner for what is not ASCII);
//   2. a piece of ≤ 8 bytes (~90% of pieces) is looked up in the hot cache (PieceCache.swift)
//      with its bytes as the key: one 8-byte load masked to the piece's length, one multiply
//      for the slot, one compare; a hit writes its 1–3 ids;
//   3. otherwise (EncodingContext.swift): a single byte's id, the piece as a whole token, the
//      second-level cache, a merge (BPEMerge.swift); the result goes into the hot cache.
// Ids go to the context's buffer, reserved once per call (a piece of n bytes never gives more
// than n ids, and a hot hit writes three words whatever its count: n + 4 is enough), and are
// appended to the caller's array at the end — no per-id array bookkeeping.

/// A pattern's fast piece scanner, as a type so that the loop is specialized for each.
protocol PieceScanner {
    static func end(_ s: Scanner, _ i: Int) -> Int
}

enum GPT2Pieces: PieceScanner {
    @inline(__always) static func end(_ s: Scanner, _ i: Int) -> Int { s.gpt2Fast(i) }
}

enum CL100kPieces: PieceScanner {
    @inline(__always) static func end(_ s: Scanner, _ i: Int) -> Int { s.cl100kFast(i, maxDigits: 3) }
}

enum Qwen2Pieces: PieceScanner {
    @inline(__always) static func end(_ s: Scanner, _ i: Int) -> Int { s.cl100kFast(i, maxDigits: 1) }
}

enum O200kPieces: PieceScanner {
    @inline(__always) static func end(_ s: Scanner, _ i: Int) -> Int { s.o200kFast(i) }
}

extension EncodingContext {
    /// Appends the ids of `p` split by `pattern`, each piece encoded by `model`.
    func encodeSplit(_ p: UnsafeBufferPointer<UInt8>, _ pattern: SplitPattern, _ model: BPEModel, into out: inout [UInt32]) {
        switch pattern {
        case .gpt2: encodeSplit(p, GPT2Pieces.self, model, into: &out)
        case .cl100k: encodeSplit(p, CL100kPieces.self, model, into: &out)
        case .qwen2: encodeSplit(p, Qwen2Pieces.self, model, into: &out)
        case .o200k: encodeSplit(p, O200kPieces.self, model, into: &out)
        }
    }

    @inline(__always)
    private func encodeSplit<S: PieceScanner>(_ p: UnsafeBufferPointer<UInt8>, _: S.Type, _ model: BPEModel,
                                              into out: inout [UInt32]) {
        let n = p.count
        guard n > 0, let base = p.baseAddress else { return }
        let scanner = Scanner(p: p, end: n)
        let dst = reserveBuffer(n + 4)
        let hot = self.hot.slots
        let raw = UnsafeRawPointer(base)
        var count = 0
        var i = 0
        // Wrapping arithmetic: offsets are bounded by n, so no overflow checks are needed.
        while i < n {
            let e = S.end(scanner, i)
            let len = e &- i
            if len <= 8 {
                let key = i &+ 8 <= n
                    ? raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & (UInt64.max &>> UInt64(64 &- 8 &* len))
                    : packShort(base + i, len)
                let slot = HotPieceCache.slot(key, len)
                let v = hot[2 &* slot &+ 1]
                if hot[2 &* slot] == key && Int(truncatingIfNeeded: v & 0xF) == len {
                    count &+= HotPieceCache.emit(v, dst + count)
                } else {
                    count &+= encodeShortMiss(model, base + i, len, key: key, slot: slot, dst: dst + count)
                }
            } else {
                count &+= encodeLongPiece(model, base + i, len, dst: dst + count)
            }
            i = e
        }
        out.append(contentsOf: UnsafeBufferPointer(start: dst, count: count))
    }
}
