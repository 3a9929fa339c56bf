// tiktoken rank files: one `base64(token bytes) rank` per line; the rank is the id. The split
// pattern and special tokens come from the encoding's name, as in tiktoken's `openai_public.py`
// (and Qwen's `tokenization_qwen.py` for qwen2).

import Foundation

/// A tiktoken encoding: its split pattern and special tokens.
public struct TiktokenEncoding: Sendable {
    public var name: String
    public var pattern: SplitPattern
    public var specialTokens: [(String, UInt32)]

    public static let all: [TiktokenEncoding] = [
        .init(name: "r50k_base", pattern: .gpt2, specialTokens: [("<|endoftext|>", 50256)]),
        .init(name: "p50k_base", pattern: .gpt2, specialTokens: [("<|endoftext|>", 50256)]),
        .init(name: "cl100k_base", pattern: .cl100k, specialTokens: [
            ("<|endoftext|>", 100257), ("<|fim_prefix|>", 100258), ("<|fim_middle|>", 100259),
            ("<|fim_suffix|>", 100260), ("<|endofprompt|>", 100276),
        ]),
        .init(name: "o200k_base", pattern: .o200k, specialTokens: [("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)]),
        .init(name: "qwen2", pattern: .qwen2, specialTokens: [
            ("<|endoftext|>", 151643), ("<|im_start|>", 151644), ("<|im_end|>", 151645),
        ]),
    ]

    /// Looks up an encoding by name (`gpt2` and `r50k` are accepted for `r50k_base`, etc.).
    public static func named(_ name: String) -> TiktokenEncoding? {
        let n = name.lowercased()
        let aliases = ["gpt2": "r50k_base", "r50k": "r50k_base", "p50k": "p50k_base", "cl100k": "cl100k_base",
                       "o200k": "o200k_base", "qwen": "qwen2"]
        let key = aliases[n] ?? n
        return all.first { $0.name == key }
    }

    /// Infers the encoding from a file name such as `cl100k_base.tiktoken` or `qwen.tiktoken`.
    public static func infer(fromFileName name: String) -> TiktokenEncoding? {
        let n = name.lowercased()
        for (needle, enc) in [("cl100k", "cl100k_base"), ("o200k", "o200k_base"), ("p50k", "p50k_base"),
                              ("r50k", "r50k_base"), ("gpt2", "r50k_base"), ("qwen", "qwen2")] where n.contains(needle) {
            return named(enc)
        }
        return nil
    }
}

extension BPEModel {
    /// The merge rules of a tiktoken vocabulary: for each token, the one split of it that a merge
    /// can ever make, the two symbols before the last merge of the token's own bytes.
    ///
    /// tiktoken merges the adjacent pair whose concatenation has the lowest rank, so any split of
    /// a token into two tokens could look like a rule (cl100k has 233k of them). But if symbols
    /// a and b are ever adjacent in a merge of some text and a + b is a token T, the merges that
    /// made a and b stayed inside T's bytes and each took the lowest-ranked pair, so BPE of T's
    /// bytes alone makes the same merges in the same order and reaches [a, b]: every other split
    /// of T is never adjacent. Keeping the used ones (cl100k: 100k) shrinks the table from 4 MB
    /// to 1 MB, which a merge step's dependent lookups notice (about 180 ns from 4 MB on the
    /// benchmark machine, about 20 ns within 1–2 MB).
    ///
    /// The merge here runs on the token store alone: the rank of two adjacent symbols is the
    /// id of their concatenated bytes. A scan per step, the ranks of the two new neighbours
    /// looked up after each merge, leftmost on ties (as tiktoken's `byte_pair_encode`).
    /// A token whose merge stops at more than two symbols is never made by merging: no rule.
    ///
    /// Cost: ~1,900 instructions a token (cl100k: 191 M for 100k tokens under callgrind), most
    /// of them the lookups of the pairs, the rest the scans and shifts on raw buffers (with
    /// arrays, whose `remove(at:)` and subscripts check as they go: 342 M). The lookups go
    /// through `wholeToken`, whose tables key a pair of up to 16 bytes by its packed bytes; the
    /// general table, which hashes the bytes first, took 252 M. On two threads (below), cl100k's
    /// load took 213 ms instead of 261 (median of 11, two CPUs), qwen2's 391 instead of 437.
    func tiktokenRules() -> PairRules {
        // Two halves of the ids on two threads; the splits are then set in one table. They do not
        // depend on the order: two tokens with one split would have the same bytes, which the
        // loader refuses.
        let halves = tokens.halvesOfEqualMergeWork()
        var found: [[(left: UInt32, right: UInt32, id: UInt32)]] = [[], []]
        let model = self
        found.withUnsafeMutableBufferPointer { found in
            nonisolated(unsafe) let found = found
            DispatchQueue.concurrentPerform(iterations: 2) { k in found[k] = model.tiktokenSplits(halves[k]) }
        }
        let used = PairRules(capacity: tokens.count)
        for half in found {
            for s in half { used.set(s.left, s.right, rank: s.id, id: s.id) }
        }
        return used
    }

    /// The split of each token of `ids` that a merge makes (`tiktokenRules`).
    private func tiktokenSplits(_ ids: Range<Int>) -> [(left: UInt32, right: UInt32, id: UInt32)] {
        var found: [(left: UInt32, right: UInt32, id: UInt32)] = []
        found.reserveCapacity(ids.count)
        let longest = ids.reduce(0) { max($0, tokens.range($1).count) }
        // Symbol i is p[starts[i] ..< starts[i + 1]]; ranks[i] is the id of symbols i and i + 1.
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: longest + 1)
        let ranks = UnsafeMutablePointer<UInt32>.allocate(capacity: max(longest, 1))
        defer {
            starts.deallocate()
            ranks.deallocate()
        }
        for id in ids where tokens.present[id] {
            let r = tokens.range(id)
            let n = r.count
            if n < 2 { continue }
            let p = tokens.bytes + r.lowerBound
            for i in 0...n { starts[i] = i }
            @inline(__always) func pairRank(_ i: Int) -> UInt32 {
                wholeToken(p + starts[i], starts[i + 2] - starts[i]) ?? .max
            }
            for i in 0..<(n - 1) { ranks[i] = pairRank(i) }
            var count = n
            while count > 2 {
                var at = 0
                for i in 1..<(count - 1) where ranks[i] < ranks[at] { at = i }
                if ranks[at] == .max { break }
                // Symbols at and at + 1 become one: drop the start between them and their rank.
                for j in (at + 1)..<count { starts[j] = starts[j + 1] }
                for k in at..<(count - 2) { ranks[k] = ranks[k + 1] }
                count -= 1
                if at > 0 { ranks[at - 1] = pairRank(at - 1) }
                if at < count - 1 { ranks[at] = pairRank(at) }
            }
            guard count == 2 else { continue }
            // Both symbols are tokens (each made by a merge, or one byte): the general table holds
            // every length.
            found.append((lookup.get(p, starts[1]), lookup.get(p + starts[1], n - starts[1]), UInt32(id)))
        }
        return found
    }
}

extension Tokenizer {
    static func loadTiktoken(_ path: String, options: LoadOptions) throws(TokenizerError) -> Tokenizer {
        let name = (path as NSString).lastPathComponent
        let encoding: TiktokenEncoding
        if let e = options.encoding {
            guard let found = TiktokenEncoding.named(e) else {
                throw .badOption("unknown encoding \(JSON.quoted(e)); use one of: \(TiktokenEncoding.all.map(\.name).joined(separator: ", "))")
            }
            encoding = found
        } else if let found = TiktokenEncoding.infer(fromFileName: name) {
            encoding = found
        } else {
            throw .unknownFormat(path: path, message: "cannot tell the tiktoken encoding from the file name; pass --encoding (\(TiktokenEncoding.all.map(\.name).joined(separator: ", ")))")
        }
        let bytes = try readFile(path)
        // A rank at or beyond the number of lines must leave a gap: refuse it before allocating.
        let lineCount = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        // Every token's bytes decoded into one buffer (a token's base64 is longer than its
        // bytes, so the file's size bounds them), and each rank's range in it: no array per
        // token (an allocation and a release each, ~1,100 instructions, were an eighth of
        // cl100k's load).
        let decoded = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { decoded.deallocate() }
        var used = 0
        var ranges: [Range<Int>?] = []
        ranges.reserveCapacity(bytes.count / 12)
        var lineNumber = 0
        var start = 0
        var lineOfRank: [Int] = []
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            defer { start = end + 1 }
            if lineEnd == start { continue }
            let line = bytes[start..<lineEnd]
            guard let space = line.firstIndex(of: 0x20), space > start,
                  let rank = Self.rank(line[(space + 1)...]) else {
                if lineNumber == 1 && (line.first == UInt8(ascii: "{") || line.first == UInt8(ascii: "#")) {
                    throw .unknownFormat(path: path, message: "not a tiktoken rank file (expected lines of `base64 rank`); pass a tokenizer.json, vocab.json + merges.txt, or a .tiktoken file")
                }
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "expected `base64-token rank`, found \(JSON.quoted(String(decoding: line.prefix(80), as: UTF8.self)))")
            }
            guard let length = line[start..<space].withUnsafeBufferPointer({ Self.base64Decode($0, to: decoded + used) }), length > 0 else {
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "invalid base64 token \(JSON.quoted(String(decoding: line[start..<space].prefix(80), as: UTF8.self)))")
            }
            if rank >= lineCount {
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "rank \(rank) is beyond the \(lineCount) lines of the file, so ranks below it are missing; ranks must run from 0 without gaps")
            }
            if rank >= ranges.count { ranges.append(contentsOf: repeatElement(nil, count: rank + 1 - ranges.count)) }
            if ranges[rank] != nil {
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "rank \(rank) appears twice; every token needs its own rank")
            }
            ranges[rank] = used..<used + length
            used += length
            if rank >= lineOfRank.count { lineOfRank.append(contentsOf: repeatElement(0, count: rank + 1 - lineOfRank.count)) }
            lineOfRank[rank] = lineNumber
        }
        if ranges.isEmpty { throw .invalidContent(path: path, location: "", message: "the rank file is empty") }
        if let gap = ranges.firstIndex(where: { $0 == nil }) {
            throw .invalidContent(path: path, location: "", message: "ranks must run from 0 to \(ranges.count - 1) without gaps, but rank \(gap) is missing")
        }
        let store = TokenStore(source: decoded, ranges: ranges)
        let model0 = BPEModel(store: store, lookup: BytesToId(store), pairs: .empty, wholePieceFirst: true)
        // Two ranks with the same bytes: the token table holds one of them.
        for id in 0..<store.count where model0.lookup.duplicates > 0 {
            let r = model0.tokens.range(id)
            let found = model0.lookup.get(model0.tokens.bytes + r.lowerBound, r.count)
            if found != UInt32(id) {
                let other = found == BytesToId.empty ? id : Int(found)
                let (first, second) = (min(lineOfRank[id], lineOfRank[other]), max(lineOfRank[id], lineOfRank[other]))
                let text = Data(model0.tokens.tokenBytes(id)).base64EncodedString()
                throw .invalidContent(path: path, location: "\(second)", message: "token \(JSON.quoted(text)) appears twice (also on line \(first)); every token needs its own bytes")
            }
        }
        for b in 0..<256 where model0.byteIds[b] == BPEModel.noId {
            throw .invalidContent(path: path, location: "", message: "no token for the single byte 0x\(String(b, radix: 16, uppercase: true)); a byte-level rank file needs all 256")
        }
        var model = model0
        model.setPairs(try model0.tiktokenRules().table(path: path))
        let specials = encoding.specialTokens.map { AddedToken(id: $0.1, content: $0.0, special: true) }
        return Tokenizer(format: .tiktoken, paths: [path], model: model, normalizer: .none,
                         steps: [.split(options.pattern ?? encoding.pattern)],
                         addedTokens: specials, matchesAddedTokens: options.allowSpecial)
    }
    /// A rank: decimal digits after an optional sign, 0 ≤ rank < 2^31, as `Int(String)` then
    /// the range check read it; nil otherwise.
    static func rank(_ text: ArraySlice<UInt8>) -> Int? {
        var i = text.startIndex
        var negative = false
        if i < text.endIndex && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) {
            negative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < text.endIndex else { return nil }
        var value = 0
        while i < text.endIndex {
            let d = Int(text[i]) &- 48
            guard d >= 0 && d < 10 else { return nil }
            value = value * 10 + d
            guard value < 1 << 31 else { return nil }
            i += 1
        }
        return negative && value != 0 ? nil : value
    }

    /// Strict base64: writes the decoded bytes of `s` at `out` (room for `s.count` bytes) and
    /// returns their count; nil unless `s` is the RFC 4648 alphabet padded to a multiple of four
    /// characters, `=` only at the end (leftover bits ignored). What it accepts,
    /// `Data(base64Encoded:)` reads the same (that one also reads some misplaced padding). A
    /// rank file holds a token per line: Foundation's decoder and the copies around it cost
    /// ~3,600 instructions a line, a third of cl100k's load (100 k lines).
    static func base64Decode(_ s: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int? {
        let n = s.count
        guard n % 4 == 0 else { return nil }
        guard n > 0 else { return 0 }
        let pad = s[n - 1] != UInt8(ascii: "=") ? 0 : s[n - 2] != UInt8(ascii: "=") ? 1 : 2
        let values = base64Values
        for i in 0..<(n - pad) where values[Int(s[i])] == 0xFF { return nil }
        var o = 0
        var i = 0
        while i < n {
            var v: UInt32 = 0
            for k in 0..<4 { v = v << 6 | (i + k < n - pad ? UInt32(values[Int(s[i + k])]) : 0) }
            let bytes = i + 4 < n ? 3 : 3 - pad
            for k in 0..<bytes { out[o + k] = UInt8(truncatingIfNeeded: v >> (16 - 8 * k)) }
            o += bytes
            i += 4
        }
        return o
    }

    /// Each byte's base64 value, 0xFF for bytes outside the alphabet.
    nonisolated(unsafe) private static let base64Values: UnsafePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        t.initialize(repeating: 0xFF, count: 256)
        for (k, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(k) }
        return UnsafePointer(t)
    }()
}
