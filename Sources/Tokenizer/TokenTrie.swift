// A byte trie over a set of tokens, for the longest token that is a prefix of a text
// (BacktrackEncoder.swift).
//
// Nodes are the distinct prefixes of the tokens (cl100k: ~217k). The root's 256 children sit in
// a dense array; the children of every other node are in one open-addressing table keyed by
// `node << 8 | byte`, each slot a single word `key << 32 | child` (4 MB for cl100k at a load
// factor of ~0.4, so a failed probe — the end of every walk — costs about two slots).

final class TokenTrie: @unchecked Sendable {
    /// The token that ends at each node, or `BPEModel.noId` (index = node; node 0 unused).
    private let tokenAt: UnsafeMutablePointer<UInt32>
    /// The root's child for each first byte (0 = none).
    private let first: UnsafeMutablePointer<UInt32>
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    let nodeCount: Int
    /// The longest token, in bytes.
    let maxLength: Int

    static let root: UInt32 = 1

    /// Builds the trie of the tokens `ids` (bytes from `store`); nil when the tokens have more
    /// than 2^24 bytes in all (a child key `node << 8 | byte` must fit in 32 bits).
    init?(store: TokenStore, ids: [UInt32]) {
        // Count nodes first (an upper bound: every byte of every token).
        var bound = 2
        var longest = 0
        for id in ids {
            let n = store.range(Int(id)).count
            bound += n
            longest = max(longest, n)
        }
        guard bound < 1 << 24 else { return nil }
        maxLength = longest
        var size = 16
        while size < 2 * bound { size <<= 1 }
        // Size the child table for the real node count below: build into a generous table first.
        let bigMask = size - 1
        let big = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        big.initialize(repeating: 0, count: size)
        defer { big.deallocate() }
        let firstChild = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
        firstChild.initialize(repeating: 0, count: 256)
        var tokens = [UInt32](repeating: BPEModel.noId, count: bound + 1)
        var nodes: UInt32 = 2   // 0 unused, 1 the root
        for id in ids {
            let r = store.range(Int(id))
            var node = TokenTrie.root
            for k in r {
                let b = store.bytes[k]
                var child: UInt32
                if node == TokenTrie.root {
                    child = firstChild[Int(b)]
                    if child == 0 { child = nodes; nodes += 1; firstChild[Int(b)] = child }
                } else {
                    let key = UInt64(node) << 8 | UInt64(b)
                    var i = TokenTrie.home(key) & bigMask
                    child = 0
                    while big[i] != 0 {
                        if big[i] >> 32 == key { child = UInt32(truncatingIfNeeded: big[i]); break }
                        i = (i + 1) & bigMask
                    }
                    if child == 0 {
                        child = nodes
                        nodes += 1
                        big[i] = key << 32 | UInt64(child)
                    }
                }
                node = child
            }
            if tokens[Int(node)] == BPEModel.noId { tokens[Int(node)] = id }
        }
        nodeCount = Int(nodes)
        tokenAt = .allocate(capacity: nodeCount)
        tokenAt.initialize(from: tokens, count: nodeCount)
        first = firstChild
        // The final table: load factor ≤ 0.5.
        var final = 16
        while final < 2 * nodeCount { final <<= 1 }
        mask = final - 1
        slots = .allocate(capacity: final)
        slots.initialize(repeating: 0, count: final)
        for i in 0...bigMask where big[i] != 0 {
            var j = TokenTrie.home(big[i] >> 32) & mask
            while slots[j] != 0 { j = (j + 1) & mask }
            slots[j] = big[i]
        }
    }

    deinit {
        tokenAt.deallocate()
        first.deallocate()
        slots.deallocate()
    }

    @inline(__always)
    private static func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> 40) }

    /// The child of `node` for byte `b`, or 0.
    @inline(__always)
    func child(_ node: UInt32, _ b: UInt8) -> UInt32 {
        if node == TokenTrie.root { return first[Int(b)] }
        let key = UInt64(node) &<< 8 | UInt64(b)
        var i = TokenTrie.home(key) & mask
        while true {
            let s = slots[i]
            if s &>> 32 == key { return UInt32(truncatingIfNeeded: s) }
            if s == 0 { return 0 }
            i = (i &+ 1) & mask
        }
    }

    /// The longest token that is a prefix of `p[0..<n]`, or `BPEModel.noId`.
    @inline(__always)
    func longestPrefix(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        var node = first[Int(p[0])]
        var best = BPEModel.noId
        var k = 1
        while node != 0 {
            let t = tokenAt[Int(node)]
            if t != BPEModel.noId { best = t }
            if k >= n { break }
            node = child(node, p[k])
            k &+= 1
        }
        return best
    }

    /// Bytes of memory the trie holds.
    var byteCount: Int { nodeCount * 4 + 256 * 4 + (mask + 1) * 8 }
}
