// Long runs of three-byte characters (Chinese, Japanese, Korean) in the backtracking encoder
// (BacktrackEncoder.swift), a character at a time.
//
// Random CJK is one piece per run (`\p{L}+`), and gpt2 has few tokens for its characters: 2.7
// tokens a character, each a trie walk and a pair check. But a character's own encoding (BPE
// of its three bytes) is nearly always how it is encoded inside the run: with gpt2, 99.2% of
// the character boundaries of random CJK are token boundaries; with cl100k, all but 2 in
// 100,000. And by (c) at the top of BacktrackEncoder.swift, a valid sequence followed by a
// valid sequence is valid when the pair at the junction is. So when the encoder reaches the
// start of a character, it pushes the character's encoding at once, read from
// `BacktrackTables.characters` (BPE of the three bytes of each of the 65,536 characters, built
// with the tables: 256 KB, of which random CJK reads 84 KB), after one pair check at the
// junction. That check is most often answered from the bytes around it, in 8 KB tables: no
// token has the two bytes that meet there (`BacktrackTables.adjacentBytes`; gpt2: 12 of the
// 384 pairs of a continuation byte and a lead byte E4–E9 are in some token, cl100k: 157), or
// none has the two before and the one after, or the one before and the two after, and the two
// do not merge as bytes (`mayMergeAcross`), so nothing can merge across. On random CJK the
// pair table is left for 1.0% (gpt2) and 1.9% (cl100k) of the junctions.
//
// The encoder stays the same search, so stays exact: when the junction fails, the loop goes on
// from that position as usual (trie walk, shorter tokens, giving positions up). Only one thing
// differs. A position inside a character pushed at once never had its candidates tried in
// order, so when the loop pops a token pushed that way, it tries that position's candidates
// from the longest (the popped one fails on its given-up end) instead of from the next shorter;
// a bit per position marks them. Each position is so tried from the longest at most twice, and
// the cost stays O(n · L).
//
// Used for pieces of `minRun` bytes and more: in running Chinese text (pieces of a clause),
// cl100k's tokens of two or more characters make the junction fail often, where the trie finds
// them first.

/// A piece with three-byte characters: a character's tokens pushed at once, the rest as for
/// any piece.
struct CharacterCandidates: BacktrackCandidates {
    let trie: TrieCandidates
    /// Positions where a token was pushed as part of a character.
    let pushed: UnsafeMutablePointer<UInt64>

    /// Pieces shorter than this get the trie alone.
    static let minRun = 256
    /// An entry holds an id below this.
    static let idLimit = 1 << 28

    static var hasBlocks: Bool { true }

    @inline(__always)
    func longest(at pos: Int) -> (UInt32, Int) { trie.longest(at: pos) }

    @inline(__always)
    func shorter(than token: UInt32, length: Int, at pos: Int) -> (UInt32, Int) {
        trie.shorter(than: token, length: length, at: pos)
    }

    @inline(__always)
    func isValid(_ t1: UInt32, _ t2: UInt32, at pos: Int, lastLength: Int, length: Int) -> Bool {
        trie.isValid(t1, t2, at: pos, lastLength: lastLength, length: length)
    }

    // An entry (`BacktrackTables.characters`): bit 1 set when usable (its bytes have tokens);
    // bits 2–3 how the three bytes split into tokens (0: 3; 1: 1 + 2; 2: 2 + 1; 3: 1 + 1 + 1);
    // from bit 4 the one token that is not a single byte (none for split 3). A single byte's
    // token comes from `BacktrackTables.byteTokens`, so an entry is 4 bytes and the table 256 KB
    // (random CJK reads 84 KB of it).
    static let usable: UInt32 = 2

    /// By split, a nibble each: the tokens (1, 2, 2, 3), the first token's length (3, 1, 2, 1),
    /// the last token's (3, 2, 1, 1), the token ends as bits from the character's start (bit k:
    /// an end k bytes on), and the token starts (0x7531, likewise).
    @inline(__always) private static func nibble(_ table: Int, _ split: Int) -> Int { table &>> (split &<< 2) & 0xF }
    @inline(__always) private static func tokens(_ split: Int) -> Int { nibble(0x3221, split) }
    @inline(__always) private static func firstLength(_ split: Int) -> Int { nibble(0x1213, split) }
    @inline(__always) private static func lastLength(_ split: Int) -> Int { nibble(0x1123, split) }
    @inline(__always) private static func ends(_ split: Int) -> UInt64 { UInt64(nibble(0xECA8, split)) }

    /// The hot loop of a run of characters: per character one load of the 256 KB character
    /// table, one of an 8 KB table for the junction's two bytes (two more of 8 KB tables when a
    /// token has them; the pair cache when even those cannot clear it), three stores of ids and
    /// one of the `pushed` bits: ~100 instructions (callgrind, random CJK with gpt2).
    func blocks(from start: Int, count start0: Int, lastLength start1: Int, dst: UnsafeMutablePointer<UInt32>,
                dead: UnsafeMutablePointer<UInt64>, lastGivenUp: Int) -> (pos: Int, count: Int, lastLength: Int) {
        // Two copies of the loop: without a search given up before `start` (nearly always), no
        // character needs the `dead` bits, and the loop has two fewer values to keep in registers.
        if start >= lastGivenUp {
            return blocks(from: start, count: start0, lastLength: start1, dst: dst, dead: dead, lastGivenUp: lastGivenUp, checksDead: false)
        }
        return blocks(from: start, count: start0, lastLength: start1, dst: dst, dead: dead, lastGivenUp: lastGivenUp, checksDead: true)
    }

    @inline(__always)
    private func blocks(from start: Int, count start0: Int, lastLength start1: Int, dst: UnsafeMutablePointer<UInt32>,
                        dead: UnsafeMutablePointer<UInt64>, lastGivenUp: Int, checksDead: Bool) -> (pos: Int, count: Int, lastLength: Int) {
        let p = trie.p, n = trie.n, pushed = self.pushed
        let bt = trie.bt, bytes = bt.byteTokens, table = bt.characters
        var pos = start, count = start0, lastLength = start1
        while pos &+ 3 <= n {
            let b0 = p[pos], b1 = p[pos &+ 1], b2 = p[pos &+ 2]
            guard b0 & 0xF0 == 0xE0, b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { break }
            let key = Int(b0 & 0x0F) &<< 12 | Int(b1 & 0x3F) &<< 6 | Int(b2 & 0x3F)
            let e = table[key]
            if e & Self.usable == 0 { break }
            let split = Int(truncatingIfNeeded: e &>> 2 & 3)
            // No token may end where the search has given up.
            let w = pos &>> 6, sh = UInt64(pos & 63)
            if checksDead && pos < lastGivenUp {
                let window = dead[w] &>> sh | (sh > 60 ? dead[w &+ 1] &<< (64 &- sh) : 0)
                if window & Self.ends(split) != 0 { break }
            }
            let id = e &>> 4
            let first = split & 1 == 0 ? id : bytes[Int(b0)]
            // The junction: most often no token has its two bytes, or no token its bytes around
            // it (see the top of the file).
            let c2 = p[pos &- 1]
            if bt.areAdjacentInSomeToken(c2, b0) && bt.mayMergeAcross(p[pos &- 2], c2, b0, b1)
                && !trie.isValid(dst[count &- 1], first, at: pos, lastLength: lastLength, length: Self.firstLength(split)) { break }
            // Three ids always (the piece has room: count ≤ pos), the unused ones overwritten later.
            dst[count] = first
            dst[count &+ 1] = split == 1 ? id : split == 2 ? bytes[Int(b2)] : bytes[Int(b1)]
            dst[count &+ 2] = bytes[Int(b2)]
            let starts = UInt64(Self.nibble(0x7531, split))
            pushed[w] |= starts &<< sh
            if sh > 61 { pushed[w &+ 1] |= starts &>> (64 &- sh) }
            count &+= Self.tokens(split)
            lastLength = Self.lastLength(split)
            pos &+= 3
        }
        return (pos, count, lastLength)
    }

    @inline(__always)
    func poppedFromBlock(at pos: Int) -> Bool {
        let bit: UInt64 = 1 &<< UInt64(pos & 63)
        if pushed[pos &>> 6] & bit == 0 { return false }
        pushed[pos &>> 6] &= ~bit
        return true
    }
}

extension BacktrackTables {
    /// The tokens `characters` holds for the character `b0 b1 b2` (a lead byte E0–EF and two
    /// continuation bytes), or nil when its bytes lack tokens: the entry's meaning, which
    /// `CharacterCandidates.blocks` reads without branches.
    func characterTokens(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> [UInt32]? {
        let e = characters[Int(b0 & 0x0F) << 12 | Int(b1 & 0x3F) << 6 | Int(b2 & 0x3F)]
        guard e & CharacterCandidates.usable != 0 else { return nil }
        let id = e >> 4
        switch e >> 2 & 3 {
        case 0: return [id]
        case 1: return [byteTokens[Int(b0)], id]
        case 2: return [id, byteTokens[Int(b2)]]
        default: return [byteTokens[Int(b0)], byteTokens[Int(b1)], byteTokens[Int(b2)]]
        }
    }

    /// The entries of `BacktrackTables.characters`: for each three-byte character (by its 16
    /// payload bits) BPE of its bytes (rank order, ties to the left, as `mergeWithHeap`).
    /// - Complexity: 65,536 characters, a few pair lookups each (~3 ms for gpt2, on the thread
    ///   that builds the tables).
    static func characterEntries(byteIds: [UInt32], bytePairs: BytePairTable, pairs: PairTable,
                                 into table: UnsafeMutablePointer<UInt32>) {
        let usable = CharacterCandidates.usable
        for key in 0..<(1 << 16) {
            let b0 = 0xE0 | UInt8(key >> 12), b1 = 0x80 | UInt8(key >> 6 & 0x3F), b2 = 0x80 | UInt8(key & 0x3F)
            let x0 = byteIds[Int(b0)], x1 = byteIds[Int(b1)], x2 = byteIds[Int(b2)]
            guard x0 != BPEModel.noId, x1 != BPEModel.noId, x2 != BPEModel.noId else { table[key] = 0; continue }
            let left = bytePairs.values[Int(b0) << 8 | Int(b1)], right = bytePairs.values[Int(b1) << 8 | Int(b2)]
            let split: UInt32, id: UInt32
            if left == PairTable.missing && right == PairTable.missing {
                (split, id) = (3, 0)
            } else if left != PairTable.missing && (right == PairTable.missing || left >> 32 <= right >> 32) {
                let m = UInt32(truncatingIfNeeded: left)
                let whole = pairs.get(m, x2)
                (split, id) = whole == PairTable.missing ? (2, m) : (0, UInt32(truncatingIfNeeded: whole))
            } else {
                let m = UInt32(truncatingIfNeeded: right)
                let whole = pairs.get(x0, m)
                (split, id) = whole == PairTable.missing ? (1, m) : (0, UInt32(truncatingIfNeeded: whole))
            }
            table[key] = usable | split << 2 | id << 4
        }
    }
}
