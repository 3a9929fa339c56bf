// The matcher's memo: one bit per (memo slot, text position) saying "this state was visited",
// and for sub-programs a second bit saying "this state is known to succeed" (with the end, for
// atomic groups). Dense bitmaps when they fit in `denseLimitWords`, else hash sets, so memory
// stays bounded by the work done even for huge patterns on huge texts.

struct RegexMemo {
    /// Largest dense bitmap, in 64-bit words (8 MB).
    static let denseLimitWords = 1 << 20

    private(set) var slots = 0
    private var positions = 0
    /// Words per slot in the dense layout (slot-major: a slot's positions are contiguous).
    private(set) var stride = 0
    /// True when the bitmaps below hold the memo (the matcher then reads them directly).
    private(set) var dense = false
    private(set) var visitedBits: UnsafeMutablePointer<UInt64>?
    private(set) var succeededBits: UnsafeMutablePointer<UInt64>?
    private var capacity = 0
    private var sparseVisited = Set<Int>()
    private var sparseSucceeded = Set<Int>()
    /// End of the first match from a succeeded state (atomic sub-programs).
    private var ends: [Int: Int] = [:]
    /// Call generation this memo was last cleared for (sub-program memos are cleared lazily).
    var generation = -1

    /// Frees the bitmaps (the owner calls it once, when done with the memo).
    func deallocate() {
        visitedBits?.deallocate()
        succeededBits?.deallocate()
    }

    /// Clears the memo for `slots` slots over positions `0...maxPosition`.
    /// - Complexity: O(slots × positions / 64) when dense.
    mutating func reset(slots: Int, maxPosition: Int, trackSuccess: Bool) {
        self.slots = slots
        positions = maxPosition + 1
        stride = (positions + 63) >> 6
        let words = slots * stride
        dense = words <= RegexMemo.denseLimitWords
        if !ends.isEmpty { ends.removeAll(keepingCapacity: true) }
        if dense {
            if words > capacity {
                visitedBits?.deallocate()
                succeededBits?.deallocate()
                capacity = max(words, 64)
                visitedBits = .allocate(capacity: capacity)
                succeededBits = .allocate(capacity: capacity)
            }
            visitedBits?.update(repeating: 0, count: words)
            if trackSuccess { succeededBits?.update(repeating: 0, count: words) }
        } else {
            if !sparseVisited.isEmpty { sparseVisited.removeAll(keepingCapacity: true) }
            if !sparseSucceeded.isEmpty { sparseSucceeded.removeAll(keepingCapacity: true) }
        }
    }

    @inline(__always) private func key(_ slot: Int, _ pos: Int) -> Int { slot * positions + pos }

    /// Marks the state visited; returns true if it already was.
    @inline(__always)
    mutating func testAndSetVisited(_ slot: Int, _ pos: Int) -> Bool {
        if dense, let v = visitedBits {
            let w = slot * stride + pos >> 6
            let bit: UInt64 = 1 << UInt64(pos & 63)
            let old = v[w]
            v[w] = old | bit
            return old & bit != 0
        }
        return !sparseVisited.insert(key(slot, pos)).inserted
    }

    @inline(__always)
    func isVisited(_ slot: Int, _ pos: Int) -> Bool {
        if dense, let v = visitedBits { return v[slot * stride + pos >> 6] & (1 << UInt64(pos & 63)) != 0 }
        return sparseVisited.contains(key(slot, pos))
    }

    mutating func clearVisited(_ slot: Int, _ pos: Int) {
        if dense, let v = visitedBits {
            v[slot * stride + pos >> 6] &= ~(1 << UInt64(pos & 63))
        } else {
            sparseVisited.remove(key(slot, pos))
        }
    }

    /// Marks positions `lo...hi` of `slot` visited.
    mutating func setVisited(_ slot: Int, from lo: Int, through hi: Int) {
        guard lo <= hi else { return }
        if dense, let v = visitedBits {
            let base = slot * stride
            let w0 = lo >> 6, w1 = hi >> 6
            let first: UInt64 = ~0 << UInt64(lo & 63)
            let last: UInt64 = ~0 >> UInt64(63 - (hi & 63))
            if w0 == w1 {
                v[base + w0] |= first & last
            } else {
                v[base + w0] |= first
                var w = w0 + 1
                while w < w1 { v[base + w] = ~0; w += 1 }
                v[base + w1] |= last
            }
        } else {
            for p in lo...hi { sparseVisited.insert(key(slot, p)) }
        }
    }

    /// Un-marks every slot at `pos`.
    mutating func clearColumn(_ pos: Int) {
        if dense, let v = visitedBits {
            let mask = ~(UInt64(1) << UInt64(pos & 63))
            var w = pos >> 6
            for _ in 0..<slots {
                v[w] &= mask
                w += stride
            }
        } else if !sparseVisited.isEmpty {
            for slot in 0..<slots { sparseVisited.remove(key(slot, pos)) }
        }
    }

    @inline(__always)
    func isSucceeded(_ slot: Int, _ pos: Int) -> Bool {
        if dense, let s = succeededBits { return s[slot * stride + pos >> 6] & (1 << UInt64(pos & 63)) != 0 }
        return sparseSucceeded.contains(key(slot, pos))
    }

    mutating func setSucceeded(_ slot: Int, _ pos: Int, end: Int, recordEnd: Bool) {
        if dense, let s = succeededBits {
            s[slot * stride + pos >> 6] |= 1 << UInt64(pos & 63)
        } else {
            sparseSucceeded.insert(key(slot, pos))
        }
        if recordEnd { ends[key(slot, pos)] = end }
    }

    func end(_ slot: Int, _ pos: Int) -> Int { ends[key(slot, pos)] ?? pos }
}
