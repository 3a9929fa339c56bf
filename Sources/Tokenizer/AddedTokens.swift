// Added and special tokens: found in the text before pre-tokenization, as HF `tokenizers`'
// AddedVocabulary does.
//
// HF's rules, reproduced here:
// - Tokens with `normalized: false` are matched on the raw text first; the text between them is
//   then normalized, and tokens with `normalized: true` are matched on each normalized piece.
// - Matching is leftmost-longest (aho-corasick `LeftmostLongest`), and once a match is found the
//   search resumes after it, even when the match is then rejected.
// - `single_word`: rejected unless the characters on both sides are not word characters
//   (Rust regex `\w`: alphabetic, marks, decimal digits, connector punctuation, join controls),
//   or it is at the edge of the text.
// - `lstrip` / `rstrip`: the match absorbs the white space on its left / right; the left side
//   stops at the end of the previous match (whose rstrip may have taken that space already).

/// One added token.
public struct AddedToken: Sendable, Equatable {
    public var id: UInt32
    public var content: String
    public var special: Bool
    public var singleWord = false
    public var lstrip = false
    public var rstrip = false
    public var normalized = false

    public init(id: UInt32, content: String, special: Bool, singleWord: Bool = false, lstrip: Bool = false,
                rstrip: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
    }
}

/// A set of added tokens matched together (leftmost-longest).
struct TokenMatcher: Sendable {
    struct Entry: Sendable {
        var bytes: [UInt8]
        var token: AddedToken
    }
    /// Candidates by first byte, longest first.
    private var byFirstByte: [[Entry]]
    /// Bit (a << 8 | b) is set when some token starts with bytes a, b, or is the single byte a:
    /// rejects most candidate positions (a space before a word, for pythia's space-run tokens)
    /// without looking at the candidates.
    private var prefixFilter: [UInt64]
    /// The first byte of some token, when all tokens share it (pythia's space runs, `<` of
    /// `<|...|>` specials): positions are then found with `memchr`.
    private var onlyFirstByte: UInt8?
    /// The first two bytes of every token, when all tokens share them (pythia's space runs all
    /// begin with two spaces): positions are then found eight bytes at a time (`findPair`),
    /// where `memchr` stopped at every space of the text.
    private var onlyFirstPair: (UInt8, UInt8)?
    let isEmpty: Bool

    init(_ tokens: [(bytes: [UInt8], token: AddedToken)]) {
        var table = [[Entry]](repeating: [], count: 256)
        for t in tokens where !t.bytes.isEmpty {
            table[Int(t.bytes[0])].append(Entry(bytes: t.bytes, token: t.token))
        }
        for i in 0..<256 {
            // Longest first; equal lengths keep the first declared.
            table[i] = table[i].enumerated().sorted {
                $0.element.bytes.count != $1.element.bytes.count
                    ? $0.element.bytes.count > $1.element.bytes.count : $0.offset < $1.offset
            }.map(\.element)
        }
        byFirstByte = table
        isEmpty = tokens.allSatisfy { $0.bytes.isEmpty }
        var filter = [UInt64](repeating: 0, count: 1024)
        for t in tokens where !t.bytes.isEmpty {
            let a = Int(t.bytes[0])
            let seconds = t.bytes.count > 1 ? [Int(t.bytes[1])] : Array(0..<256)
            for b in seconds { filter[(a << 8 | b) >> 6] |= 1 << UInt64((a << 8 | b) & 63) }
        }
        prefixFilter = filter
        let firsts = Set(tokens.compactMap { $0.bytes.first })
        onlyFirstByte = firsts.count == 1 ? firsts.first : nil
        let pairs = Set(tokens.map { $0.bytes.count >= 2 ? Int($0.bytes[0]) << 8 | Int($0.bytes[1]) : -1 })
        if pairs.count == 1, let pair = pairs.first, pair >= 0 { onlyFirstPair = (UInt8(pair >> 8), UInt8(pair & 0xFF)) }
    }

    /// The first position at or after `from` where bytes `a`, `b` follow each other, or nil.
    /// Eight positions at a time (little-endian: the first byte is the lowest): a byte of `x ^ a…`
    /// is zero where `a` is, and
    /// `~(((v & 0x7F…) + 0x7F…) | v | 0x7F…)` has the top bit of exactly the zero bytes of v.
    static func findPair(_ p: UnsafeBufferPointer<UInt8>, from: Int, _ a: UInt8, _ b: UInt8) -> Int? {
        guard let base = p.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let n = p.count
        let ones: UInt64 = 0x0101_0101_0101_0101, low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        @inline(__always) func zeroBytes(_ v: UInt64) -> UInt64 { ~(((v & low7) &+ low7) | v | low7) }
        let wa = ones &* UInt64(a), wb = ones &* UInt64(b)
        var i = from
        while i &+ 9 <= n {
            let x = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let y = raw.loadUnaligned(fromByteOffset: i &+ 1, as: UInt64.self)
            let m = zeroBytes(x ^ wa) & zeroBytes(y ^ wb)
            if m != 0 { return i &+ m.trailingZeroBitCount / 8 }
            i &+= 8
        }
        while i &+ 1 < n {
            if p[i] == a && p[i &+ 1] == b { return i }
            i &+= 1
        }
        return nil
    }

    /// Marks an added token in `split`'s callback (text pieces get `textPiece`).
    static let textPiece = UInt32.max

    /// Splits `p` into text and added tokens with HF's rules: `body(start, end, id)` with
    /// `id == textPiece` for text `start..<end`, else the added token's id.
    /// - Complexity: O(n · k) where k is the number of tokens sharing a first byte.
    func split(_ p: UnsafeBufferPointer<UInt8>, _ body: (Int, Int, UInt32) -> Void) {
        let n = p.count
        if isEmpty { if n > 0 { body(0, n, TokenMatcher.textPiece) }; return }
        var textStart = 0
        var i = 0
        while i < n {
            if let (a, b) = onlyFirstPair {
                guard let at = TokenMatcher.findPair(p, from: i, a, b) else { break }
                i = at
            } else if let only = onlyFirstByte, p[i] != only, let base = p.baseAddress {
                guard let hit = memchr(base + i, Int32(only), n - i) else { break }
                i = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            }
            let second = i + 1 < n ? Int(p[i + 1]) : 0
            let key = Int(p[i]) << 8 | second
            if prefixFilter[key >> 6] & (1 << UInt64(key & 63)) == 0 { i += 1; continue }
            let candidates = byFirstByte[Int(p[i])]
            if candidates.isEmpty { i += 1; continue }
            var found: Entry?
            for c in candidates where c.bytes.count <= n - i {
                var k = 1
                while k < c.bytes.count && p[i + k] == c.bytes[k] { k += 1 }
                if k == c.bytes.count { found = c; break }
            }
            guard let m = found else { i += 1; continue }
            var start = i
            var stop = i + m.bytes.count
            i = stop
            if m.token.singleWord {
                let leftOK = start == 0 || !isWordChar(endingAt: start, p)
                let rightOK = stop == n || !isWordChar(at: stop, p)
                if !leftOK || !rightOK { continue }
            }
            if m.token.lstrip {
                var s = start
                while s > textStart {
                    let len = lastScalarLength(p, before: s)
                    if !charClass(at: s - len, p).contains(.space) { break }
                    s -= len
                }
                start = s
            }
            if m.token.rstrip {
                while stop < n {
                    let (v, len) = decodeScalar(p, stop)
                    if !UnicodeClasses.of(v).contains(.space) { break }
                    stop += len
                }
            }
            if textStart < start { body(textStart, start, TokenMatcher.textPiece) }
            body(start, stop, m.token.id)
            textStart = stop
            // HF resumes the search at the end of the match itself, not of the stripped span.
        }
        if textStart < n { body(textStart, n, TokenMatcher.textPiece) }
    }

    private func charClass(at i: Int, _ p: UnsafeBufferPointer<UInt8>) -> CharClass {
        UnicodeClasses.of(decodeScalar(p, i).0)
    }

    private func isWordChar(at i: Int, _ p: UnsafeBufferPointer<UInt8>) -> Bool {
        charClass(at: i, p).contains(.word)
    }

    private func isWordChar(endingAt i: Int, _ p: UnsafeBufferPointer<UInt8>) -> Bool {
        charClass(at: i - lastScalarLength(p, before: i), p).contains(.word)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
