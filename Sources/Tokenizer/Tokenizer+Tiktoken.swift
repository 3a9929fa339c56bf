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
    /// The one split of each token that a merge can ever make: the two symbols before the last
    /// merge of the token's own bytes. (If symbols a and b are ever adjacent in a merge of some
    /// text and a + b is a token T, the merges that made a and b stayed inside T's bytes and
    /// each took the lowest-ranked pair, so BPE of T's bytes alone makes the same merges in
    /// the same order and reaches [a, b]: any other split of T is never adjacent.) cl100k has
    /// 233k splits of tokens into two tokens and 100k used ones; its table shrinks from 4 MB to
    /// 1 MB, which a merge step's dependent lookups notice (about 180 ns from 4 MB on the
    /// benchmark machine, about 20 ns within 1–2 MB).
    func usedSplits() -> PairRules {
        let used = PairRules(capacity: tokens.count)
        let scratch = MergeScratch()
        for id in 0..<tokens.count where tokens.present[id] {
            let r = tokens.range(id)
            if r.count < 2 { continue }
            guard let (l, rt) = lastMerge(tokens.bytes + r.lowerBound, r.count, scratch: scratch) else { continue }
            let v = pairs.get(l, rt)
            if v != PairTable.missing && UInt32(truncatingIfNeeded: v) == UInt32(id) {
                used.set(l, rt, rank: UInt32(truncatingIfNeeded: v >> 32), id: UInt32(id))
            }
        }
        return used
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
        var tokens: [[UInt8]?] = []
        tokens.reserveCapacity(bytes.count / 12)
        var lineNumber = 0
        var start = 0
        var seen = Set<[UInt8]>()
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
                  let rank = Int(String(decoding: line[(space + 1)...], as: UTF8.self)), rank >= 0, rank < 1 << 31 else {
                if lineNumber == 1 && (line.first == UInt8(ascii: "{") || line.first == UInt8(ascii: "#")) {
                    throw .unknownFormat(path: path, message: "not a tiktoken rank file (expected lines of `base64 rank`); pass a tokenizer.json, vocab.json + merges.txt, or a .tiktoken file")
                }
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "expected `base64-token rank`, found \(JSON.quoted(String(decoding: line.prefix(80), as: UTF8.self)))")
            }
            guard let data = Data(base64Encoded: Data(line[start..<space])), !data.isEmpty else {
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "invalid base64 token \(JSON.quoted(String(decoding: line[start..<space].prefix(80), as: UTF8.self)))")
            }
            let token = [UInt8](data)
            if rank >= lineCount {
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "rank \(rank) is beyond the \(lineCount) lines of the file, so ranks below it are missing; ranks must run from 0 without gaps")
            }
            if rank >= tokens.count { tokens.append(contentsOf: repeatElement(nil, count: rank + 1 - tokens.count)) }
            if tokens[rank] != nil {
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "rank \(rank) appears twice; every token needs its own rank")
            }
            guard seen.insert(token).inserted else {
                throw .invalidContent(path: path, location: "\(lineNumber)", message: "token \(JSON.quoted(String(decoding: line[start..<space], as: UTF8.self))) appears twice")
            }
            tokens[rank] = token
        }
        if tokens.isEmpty { throw .invalidContent(path: path, location: "", message: "the rank file is empty") }
        if let gap = tokens.firstIndex(where: { $0 == nil }) {
            throw .invalidContent(path: path, location: "", message: "ranks must run from 0 to \(tokens.count - 1) without gaps, but rank \(gap) is missing")
        }
        // tiktoken merges the adjacent pair whose concatenation has the lowest rank. Every split of
        // a token into two tokens is such a pair: turn them into pair rules once, here.
        let model0 = BPEModel(tokens: tokens, pairs: .empty, wholePieceFirst: true)
        for b in 0..<256 where model0.byteIds[b] == BPEModel.noId {
            throw .invalidContent(path: path, location: "", message: "no token for the single byte 0x\(String(b, radix: 16, uppercase: true)); a byte-level rank file needs all 256")
        }
        let rules = PairRules(capacity: tokens.count * 2)
        let store = model0.tokens
        for id in 0..<store.count where store.present[id] {
            let r = store.range(id)
            if r.count < 2 { continue }
            let base = store.bytes + r.lowerBound
            for k in 1..<r.count {
                let a = model0.lookup.get(base, k)
                if a == BytesToId.empty { continue }
                let b = model0.lookup.get(base + k, r.count - k)
                if b == BytesToId.empty { continue }
                rules.set(a, b, rank: UInt32(id), id: UInt32(id))
            }
        }
        var model = model0
        model.setPairs(try rules.table(path: path))
        model.setPairs(try model.usedSplits().table(path: path))
        let specials = encoding.specialTokens.map { AddedToken(id: $0.1, content: $0.0, special: true) }
        return Tokenizer(format: .tiktoken, paths: [path], model: model, normalizer: .none,
                         steps: [.split(options.pattern ?? encoding.pattern)],
                         addedTokens: specials, matchesAddedTokens: options.allowSpecial)
    }
}
