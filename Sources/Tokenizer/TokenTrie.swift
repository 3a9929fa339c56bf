// A byte trie over a set of tokens, for the longest token that is a prefix of a text
// (BacktrackEncoder.swift).
//
// Nodes are the distinct prefixes of the tokens (cl100k: ~217k). The root's 256 children sit in
// a dense array; the children of every other node are in one open-addressing table keyed by
// `node << 8 | byte`, each slot a single word `key << 32 | child` (4 MB for cl100k at a load
// factor of ~0.4, so a failed probe — the end of every walk — costs about two slots).
//
// The node of token t is numbered t + 2 (0 is "none", 1 the root), the other nodes from the
// vocabulary's size + 2 on: a walk reads the token off the child it just found, where a table
// of each node's token cost a second dependent load per byte (zh: two of them per byte of a
// Chinese piece, into tables of several MB).

final class TokenTrie: @unchecked Sendable {
    /// Nodes below this are tokens: node t + 2 is token t.
    private let tokenNodes: UInt32
    /// The root's child for each first byte (0 = none).
    private let first: UnsafeMutablePointer<UInt32>
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    let nodeCount: Int
    /// The longest token, in bytes.
    let maxLength: Int

    static let root: UInt32 = 1

    /// Builds the trie of the tokens `ids` (bytes from `store`); nil when the vocabulary's size
    /// and the nodes that are no token come to 2^24 or more (a child key `node << 8 | byte`
    /// must fit in 32 bits).
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
        // Renumber (see the top of the file). A node holds the first of the ids inserted there;
        // a second token with the same bytes is refused by the caller.
        let limit = store.count + 2
        var renumbered = [UInt32](repeating: 0, count: Int(nodes))
        var next = limit
        renumbered[Int(TokenTrie.root)] = TokenTrie.root
        for old in 2..<Int(nodes) {
            if tokens[old] != BPEModel.noId {
                renumbered[old] = tokens[old] + 2
            } else {
                renumbered[old] = UInt32(truncatingIfNeeded: next)
                next += 1
            }
        }
        guard next < 1 << 24 else { firstChild.deallocate(); return nil }
        tokenNodes = UInt32(limit)
        nodeCount = Int(nodes)
        for b in 0..<256 where firstChild[b] != 0 { firstChild[b] = renumbered[Int(firstChild[b])] }
        first = firstChild
        // The final table: load factor ≤ 0.5.
        var final = 16
        while final < 2 * nodeCount { final <<= 1 }
        mask = final - 1
        slots = .allocate(capacity: final)
        slots.initialize(repeating: 0, count: final)
        for i in 0...bigMask where big[i] != 0 {
            let parent = renumbered[Int(big[i] >> 40)], byte = (big[i] >> 32) & 0xFF
            let key = UInt64(parent) << 8 | byte
            var j = TokenTrie.home(key) & mask
            while slots[j] != 0 { j = (j + 1) & mask }
            slots[j] = key << 32 | UInt64(renumbered[Int(big[i] & 0xFFFF_FFFF)])
        }
    }

    deinit {
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
            if node < tokenNodes { best = node &- 2 }
            if k >= n { break }
            node = child(node, p[k])
            k &+= 1
        }
        return best
    }

    /// Bytes of memory the trie holds.
    var byteCount: Int { 256 * 4 + (mask + 1) * 8 }
}
