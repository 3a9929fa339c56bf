// Literal patterns from tokenizer files (Replace and Split with a `String`, Metaspace's
// replacement): their non-overlapping occurrences, left to right, as Rust's `regex` finds an
// escaped literal. Knuth–Morris–Pratt keeps the search O(n + m) whatever the file holds — a
// naive search is O(n · m) on a pattern like "aaaa…b".

/// A non-empty literal byte string to search for.
struct LiteralPattern: Sendable, Equatable {
    let bytes: [UInt8]
    /// KMP failure function: `failure[k]` is the length of the longest proper border of
    /// `bytes[0...k]`.
    private let failure: [Int]

    /// - Precondition: `bytes` is not empty (loaders refuse empty patterns).
    init(_ bytes: [UInt8]) {
        precondition(!bytes.isEmpty, "a literal pattern cannot be empty")
        self.bytes = bytes
        var f = [Int](repeating: 0, count: bytes.count)
        var k = 0
        for i in 1..<max(bytes.count, 1) {
            while k > 0 && bytes[i] != bytes[k] { k = f[k - 1] }
            if bytes[i] == bytes[k] { k += 1 }
            f[i] = k
        }
        failure = f
    }

    var count: Int { bytes.count }

    /// Calls `body(start)` for each occurrence, left to right, not overlapping the previous one.
    /// - Complexity: O(n + m).
    func forEachMatch(in p: UnsafeBufferPointer<UInt8>, _ body: (Int) -> Void) {
        let m = bytes.count
        if m == 1 {
            let b = bytes[0]
            for i in 0..<p.count where p[i] == b { body(i) }
            return
        }
        var k = 0
        for i in 0..<p.count {
            while k > 0 && p[i] != bytes[k] { k = failure[k - 1] }
            if p[i] == bytes[k] { k += 1 }
            if k == m {
                body(i + 1 - m)
                k = 0  // the next match starts after this one
            }
        }
    }
}
