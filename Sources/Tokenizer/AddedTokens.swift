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
            if let only = onlyFirstByte, p[i] != only, let base = p.baseAddress {
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
