// A byte trie over a set of tokens, for the longest token that is a prefix of a text
// (BacktrackEncoder.swift).
//
// Nodes are the distinct prefixes of the tokens (cl100k: ~217k). A walk from the root reads:
//   - the first byte's node from a dense 256-entry array;
//   - the node after the first two bytes from a dense 65,536-entry array (256 KB, of which a
//     script's text touches a few lines: Chinese lead bytes E4–E9 are 384 entries), so no
//     hashed probe for the first two bytes of a token;
//   - the node after a whole three-byte UTF-8 character (lead byte E0–EF, two continuation
//     bytes: Chinese, Japanese, Korean, most of the BMP) from a dense 65,536-entry array
//     indexed by the character's 16 payload bits (256 KB; random Chinese text touches the 96 KB
//     of leads E4–E9), where the hashed table below missed the L2 cache on nearly every
//     character: that probe was 46% of the backtracking encoder's samples on random Chinese
//     with cl100k;
//   - each further byte's node from one open-addressing table keyed by `node << 8 | byte`,
//     each slot a single word `key << 32 | child` (4 MB for cl100k at a load factor of ~0.4,
//     so a failed probe costs about two slots, but usually a miss of the caches).
// Every stored child carries a flag when it has no children itself, so a walk that reaches a
// leaf stops without the failed probe that would end it (zh, cl100k, pieces over 24 bytes: half
// of the walks end at a leaf; the two-byte array and the flag together remove ~45% of the
// hashed probes, counted with tiktoken's encodings).
//
// The node of token t is numbered t + 2 (0 is "none", 1 the root), the other nodes from the
// vocabulary's size + 2 on: a walk reads the token off the child it just found, where a table
// of each node's token cost a second dependent load per byte (zh: two of them per byte of a
// Chinese piece, into tables of several MB).

final class TokenTrie: @unchecked Sendable {
    /// Nodes below this are tokens: node t + 2 is token t.
    private let tokenNodes: UInt32
    /// The root's child for each first byte (0 = none), flagged.
    private let first: UnsafeMutablePointer<UInt32>
    /// The node after the first two bytes, `b0 << 8 | b1` (0 = none), flagged.
    private let second: UnsafeMutablePointer<UInt32>
    /// The node after a three-byte UTF-8 character, by `TokenTrie.threeByteIndex` (0 = none),
    /// flagged.
    private let third: UnsafeMutablePointer<UInt32>
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    let nodeCount: Int
    /// The longest token, in bytes.
    let maxLength: Int

    static let root: UInt32 = 1
    /// Set on a stored child that has no children.
    private static let leaf: UInt32 = 1 << 31

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
        // The children by old node numbers, in a table that doubles when half full: sized by
        // every byte of every token, it was 16 MB for cl100k, zeroed and probed at random (a
        // sixth of the load, and of its peak memory); the trie has ~2.2 nodes a token.
        var size = 16
        while size < 4 * ids.count { size <<= 1 }
        var bigMask = size - 1
        var big = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        big.initialize(repeating: 0, count: size)
        defer { big.deallocate() }
        var stored = 0
        func grow() {
            let newMask = 2 * (bigMask + 1) - 1
            let bigger = UnsafeMutablePointer<UInt64>.allocate(capacity: newMask + 1)
            bigger.initialize(repeating: 0, count: newMask + 1)
            for i in 0...bigMask where big[i] != 0 {
                var j = TokenTrie.home(big[i] >> 32) & newMask
                while bigger[j] != 0 { j = (j + 1) & newMask }
                bigger[j] = big[i]
            }
            big.deallocate()
            big = bigger
            bigMask = newMask
        }
        var firstChild = [UInt32](repeating: 0, count: 256)
        // Per old node: the token it is, or noId.
        var tokens: [UInt32] = [BPEModel.noId, BPEModel.noId]
        tokens.reserveCapacity(size / 2)
        var nodes: UInt32 = 2   // 0 unused, 1 the root
        for id in ids {
            let r = store.range(Int(id))
            var node = TokenTrie.root
            for k in r {
                let b = store.bytes[k]
                var child: UInt32
                if node == TokenTrie.root {
                    child = firstChild[Int(b)]
                    if child == 0 { child = nodes; nodes += 1; tokens.append(BPEModel.noId); firstChild[Int(b)] = child }
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
                        tokens.append(BPEModel.noId)
                        big[i] = key << 32 | UInt64(child)
                        stored += 1
                        if 2 * stored > bigMask + 1 { grow() }
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
        guard next < 1 << 24 else { return nil }
        tokenNodes = UInt32(limit)
        nodeCount = Int(nodes)
        // Which nodes (old numbers) have children: the root's children and every parent in `big`.
        var parent = [Bool](repeating: false, count: Int(nodes))
        for i in 0...bigMask where big[i] != 0 { parent[Int(big[i] >> 40)] = true }
        func flagged(_ old: UInt32) -> UInt32 {
            old == 0 ? 0 : renumbered[Int(old)] | (parent[Int(old)] ? 0 : TokenTrie.leaf)
        }
        first = .allocate(capacity: 256)
        for b in 0..<256 { first[b] = flagged(firstChild[b]) }
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
            slots[j] = key << 32 | UInt64(flagged(UInt32(truncatingIfNeeded: big[i])))
        }
        // The two-byte and three-byte arrays, read from the finished table.
        second = .allocate(capacity: 1 << 16)
        second.initialize(repeating: 0, count: 1 << 16)
        third = .allocate(capacity: 1 << 16)
        third.initialize(repeating: 0, count: 1 << 16)
        for b0 in 0..<256 where first[b0] != 0 && first[b0] & TokenTrie.leaf == 0 {
            for b1 in 0..<256 { second[b0 << 8 | b1] = probe(first[b0], UInt8(b1)) }
        }
        for b0 in 0xE0..<0xF0 {
            for b1 in 0x80..<0xC0 where second[b0 << 8 | b1] != 0 && second[b0 << 8 | b1] & TokenTrie.leaf == 0 {
                for b2 in 0x80..<0xC0 {
                    third[TokenTrie.threeByteIndex(UInt8(b0), UInt8(b1), UInt8(b2))] = probe(second[b0 << 8 | b1], UInt8(b2))
                }
            }
        }
    }

    /// The index in `third` of the character `b0 b1 b2` (E0–EF, then two bytes 80–BF): its 16
    /// payload bits.
    @inline(__always)
    private static func threeByteIndex(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> Int {
        Int(b0 & 0x0F) &<< 12 | Int(b1 & 0x3F) &<< 6 | Int(b2 & 0x3F)
    }

    deinit {
        first.deallocate()
        second.deallocate()
        third.deallocate()
        slots.deallocate()
    }

    @inline(__always)
    private static func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> 40) }

    /// The flagged child of the (flagged) node `node` for byte `b` in the hashed table, or 0.
    @inline(__always)
    private func probe(_ node: UInt32, _ b: UInt8) -> UInt32 {
        let key = UInt64(node & ~TokenTrie.leaf) &<< 8 | UInt64(b)
        var i = TokenTrie.home(key) & mask
        while true {
            let s = slots[i]
            if s &>> 32 == key { return UInt32(truncatingIfNeeded: s) }
            if s == 0 { return 0 }
            i = (i &+ 1) & mask
        }
    }

    /// The longest token that is a prefix of `p[0..<n]` (n ≥ 1), or `BPEModel.noId`.
    @inline(__always)
    func longestPrefix(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 { longestMatch(p, n).id }

    /// The longest token that is a prefix of `p[0..<n]` (n ≥ 1) and its length in bytes, or
    /// (`BPEModel.noId`, 0). The length comes from the walk's depth, so the backtracking encoder
    /// reads no token offsets for the tokens it takes at once.
    @inline(__always)
    func longestMatch(_ p: UnsafePointer<UInt8>, _ n: Int) -> (id: UInt32, length: Int) {
        var node = first[Int(p[0])]
        if node == 0 { return (BPEModel.noId, 0) }
        var best = BPEModel.noId, length = 0
        if node & ~TokenTrie.leaf < tokenNodes { best = (node & ~TokenTrie.leaf) &- 2; length = 1 }
        if node & TokenTrie.leaf != 0 || n < 2 { return (best, length) }
        node = second[Int(p[0]) &<< 8 | Int(p[1])]
        var k = 2
        // A three-byte character: its third byte from the dense array.
        if node != 0 && node & TokenTrie.leaf == 0 && n > 2
            && p[0] & 0xF0 == 0xE0 && p[1] & 0xC0 == 0x80 && p[2] & 0xC0 == 0x80 {
            if node < tokenNodes { best = node &- 2; length = 2 }
            node = third[TokenTrie.threeByteIndex(p[0], p[1], p[2])]
            k = 3
        }
        while node != 0 {
            let plain = node & ~TokenTrie.leaf
            if plain < tokenNodes { best = plain &- 2; length = k }
            if node & TokenTrie.leaf != 0 || k >= n { break }
            node = probe(node, p[k])
            k &+= 1
        }
        return (best, length)
    }

    /// Bytes of memory the trie holds.
    var byteCount: Int { 256 * 4 + 2 * (1 << 16) * 4 + (mask + 1) * 8 }
}
