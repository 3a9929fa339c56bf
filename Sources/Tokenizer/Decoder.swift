// Decoding ids → text for tokenizer.json files that are not plain byte-level: the token strings
// go through the file's decoder chain, as HF `tokenizers`' `decode(ids)` does.
//
//   Replace("▁", " ")   every occurrence in every token
//   ByteFallback         runs of `<0xXX>` tokens → their bytes as UTF-8 (each byte → U+FFFD
//                        when the run is not valid UTF-8)
//   Fuse                 all tokens → one
//   Strip(c, start, stop) up to `start` leading / `stop` trailing `c` off every token
//   Metaspace            the replacement → space, dropped in the first token unless
//                        prepend_scheme is "never"
//   ByteLevel            the GPT-2 byte alphabet → bytes, all tokens joined
// With no decoder, HF joins the tokens with spaces. Decoding is not on any hot path: it works on
// `String`s for clarity.

/// One decoder of a chain.
enum DecoderStep: Sendable {
    case byteLevel
    case replace(pattern: LiteralPattern, content: [UInt8])
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case metaspace(replacement: Unicode.Scalar, prependScheme: Metaspace.PrependScheme)
}

/// A tokenizer.json decoder: its steps in order (empty for `"decoder": null`).
struct Decoder: Sendable {
    var steps: [DecoderStep]

    var description: String {
        steps.isEmpty ? "none (tokens joined with spaces)" : steps.map { step -> String in
            switch step {
            case .byteLevel: return "ByteLevel"
            case let .replace(p, c):
                return "Replace(\(JSON.quoted(String(decoding: p.bytes, as: UTF8.self))) → \(JSON.quoted(String(decoding: c, as: UTF8.self))))"
            case .byteFallback: return "ByteFallback"
            case .fuse: return "Fuse"
            case let .strip(c, a, b): return "Strip(\(JSON.quoted(String(Character(c)))), \(a), \(b))"
            case let .metaspace(r, s): return "Metaspace(\(JSON.quoted(String(Character(r)))), \(s.rawValue))"
            }
        }.joined(separator: ", ")
    }

    /// The text of `tokens` (token strings, added tokens included), as HF's `Decoder::decode`.
    ///
    ///     // Llama 2: ["▁Hello", "▁world", "<0x21>"] → "Hello world!"
    func decode(_ tokens: [String]) -> String {
        if steps.isEmpty { return tokens.joined(separator: " ") }
        var tokens = tokens
        for step in steps { tokens = Decoder.apply(step, tokens) }
        return tokens.joined()
    }

    static func apply(_ step: DecoderStep, _ tokens: [String]) -> [String] {
        switch step {
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in tokens { bytes += ByteLevel.decode(t) ?? Array(t.utf8) }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .replace(pattern, content):
            return tokens.map { t in
                var t = t
                return t.withUTF8 { p in Normalizer.replace(p, pattern, content).map { String(decoding: $0, as: UTF8.self) } } ?? t
            }
        case .byteFallback:
            return byteFallback(tokens)
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { t in
                let chars = Array(t.unicodeScalars)
                var from = 0
                while from < min(start, chars.count) && chars[from] == content { from += 1 }
                var to = chars.count
                var k = 0
                while k < stop && to > 0 && chars[to - 1] == content { to -= 1; k += 1 }
                guard from < to else { return "" }
                var s = String.UnicodeScalarView()
                s.append(contentsOf: chars[from..<to])
                return String(s)
            }
        case let .metaspace(replacement, scheme):
            return tokens.enumerated().map { i, t in
                var s = String.UnicodeScalarView()
                for c in t.unicodeScalars {
                    if c == replacement {
                        if !(i == 0 && scheme != .never) { s.append(" ") }
                    } else {
                        s.append(c)
                    }
                }
                return String(s)
            }
        }
    }

    /// HF `ByteFallback`: consecutive `<0xXX>` tokens become one string of their bytes, or one
    /// U+FFFD per byte when those bytes are not valid UTF-8.
    static func byteFallback(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let s = String(validating: pending, as: UTF8.self) {
                result.append(s)
            } else {
                result.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for t in tokens {
            if let b = byteFallbackByte(t) {
                pending.append(b)
            } else {
                flush()
                result.append(t)
            }
        }
        flush()
        return result
    }

    /// The byte of a `<0xXX>` token (6 bytes, hex digits as Rust's `u8::from_str_radix` reads them).
    static func byteFallbackByte(_ t: String) -> UInt8? {
        let u = Array(t.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E, u[3] != 0x2D else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }
}
