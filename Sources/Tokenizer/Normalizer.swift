// Normalization: the tokenizer.json normalizers finetok implements, applied in order, as HF
// `tokenizers` applies a `Sequence`:
//
//   NFC                 pythia / GPT-NeoX, Qwen
//   Prepend(s)          Llama 2 / Phi-3: "▁" before a non-empty text
//   Replace(" ", s)     Llama 2 / Phi-3 / Gemma: every occurrence of a literal string
//   Lowercase, Strip    per scalar, as Rust's `char::to_lowercase` / `char::is_whitespace`
//   sentencePiece       a `tokenizer.model`'s identity normalization (SentencePieceNormalizer.swift)
//
// Each step returns nil when it leaves the text unchanged, so the common case allocates nothing.

/// One normalization step.
enum NormalizerStep: Sendable {
    case nfc
    case lowercase
    /// HF `Strip`: White_Space removed from the left and/or right end.
    case strip(left: Bool, right: Bool)
    /// HF `Prepend`: `bytes` before the text, unless the text is empty.
    case prepend([UInt8])
    /// HF `Replace` with a `String` pattern: every non-overlapping occurrence, left to right.
    case replace(pattern: LiteralPattern, content: [UInt8])
    /// A SentencePiece model's identity normalizer (dummy prefix, white space).
    case sentencePiece(SentencePieceNormalizer)

    var name: String {
        switch self {
        case .nfc: return "NFC"
        case .lowercase: return "Lowercase"
        case let .strip(l, r): return "Strip(\(l && r ? "both" : l ? "left" : "right"))"
        case .prepend(let s): return "Prepend(\(JSON.quoted(String(decoding: s, as: UTF8.self))))"
        case let .replace(p, c):
            return "Replace(\(JSON.quoted(String(decoding: p.bytes, as: UTF8.self))) → \(JSON.quoted(String(decoding: c, as: UTF8.self))))"
        case .sentencePiece(let n): return n.description
        }
    }
}

/// The normalizer of a tokenizer: its steps in order (none for most byte-level files).
struct Normalizer: Sendable {
    var steps: [NormalizerStep]

    static let none = Normalizer(steps: [])
    static let nfc = Normalizer(steps: [.nfc])

    /// Whether the normalizer never changes a text.
    var isIdentity: Bool { steps.isEmpty }

    /// A short description ("NFC", "Prepend("▁"), Replace(" " → "▁")", "none").
    var description: String { steps.isEmpty ? "none" : steps.map(\.name).joined(separator: ", ") }

    /// Returns the normalized bytes, or nil when the text is unchanged (decided without
    /// allocating for the common steps).
    /// - Complexity: O(n) per step.
    func apply(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // Llama 2 / Phi-3: Prepend("▁") then Replace(" ", "▁") in one pass and one allocation
        // (the same result, since the pattern does not occur in the prefix).
        if steps.count == 2, case .prepend(let prefix) = steps[0], case let .replace(pattern, content) = steps[1],
           pattern.count == 1, !prefix.contains(pattern.bytes[0]) {
            if p.isEmpty { return nil }
            return Normalizer.replace(p, pattern, content, prefix: prefix) ?? (prefix + Array(p))
        }
        var current: [UInt8]?
        for step in steps {
            let next: [UInt8]?
            if let c = current {
                next = c.withUnsafeBufferPointer { Normalizer.apply(step, $0) }
            } else {
                next = Normalizer.apply(step, p)
            }
            if let next { current = next }
        }
        return current
    }

    static func apply(_ step: NormalizerStep, _ p: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        switch step {
        case .nfc: return nfc(p)
        case .lowercase: return lowercase(p)
        case let .strip(left, right): return strip(p, left: left, right: right)
        case .prepend(let s): return p.isEmpty ? nil : s + Array(p)
        case let .replace(pattern, content): return replace(p, pattern, content)
        case .sentencePiece(let n): return n.normalize(p)
        }
    }

    /// Every occurrence of `pattern` replaced by `content`, left to right, or nil when there is none.
    /// - Parameter prefix: written before the result (only when something is replaced).
    /// - Complexity: O(n + m).
    static func replace(_ p: UnsafeBufferPointer<UInt8>, _ pattern: LiteralPattern, _ content: [UInt8], prefix: [UInt8] = []) -> [UInt8]? {
        let n = p.count, m = pattern.count
        guard n >= m else { return nil }
        var out: [UInt8] = []
        var copied = -1
        pattern.forEachMatch(in: p) { i in
            if copied < 0 { out.reserveCapacity(prefix.count + n + n / 2 + 16); out += prefix; copied = 0 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p[copied..<i]))
            out.append(contentsOf: content)
            copied = i + m
        }
        if copied < 0 { return nil }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: p[copied..<n]))
        return out
    }

    /// Rust's `char::to_lowercase` on every scalar (the full Unicode mapping, no context).
    static func lowercase(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var changed = false
        var i = 0
        while i < p.count {
            let b = p[i]
            if b < 0x80 {
                let l = (0x41...0x5A).contains(b) ? b + 0x20 : b
                if l != b { changed = true }
                out.append(l)
                i += 1
                continue
            }
            let (v, len) = decodeScalar(p, i)
            if let u = Unicode.Scalar(v) {
                let mapped = u.properties.lowercaseMapping
                if mapped.unicodeScalars.count == 1 && mapped.unicodeScalars.first == u {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<(i + len)]))
                } else {
                    changed = true
                    out.append(contentsOf: mapped.utf8)
                }
            }
            i += len
        }
        return changed ? out : nil
    }

    /// White_Space (Rust's `char::is_whitespace`) removed from the ends.
    static func strip(_ p: UnsafeBufferPointer<UInt8>, left: Bool, right: Bool) -> [UInt8]? {
        var start = 0, end = p.count
        if left {
            while start < end {
                let (v, len) = decodeScalar(p, start)
                if !UnicodeClasses.of(v).contains(.space) { break }
                start += len
            }
        }
        if right {
            while end > start {
                let len = lastScalarLength(p, before: end)
                if !UnicodeClasses.of(decodeScalar(p, end - len).0).contains(.space) { break }
                end -= len
            }
        }
        if start == 0 && end == p.count { return nil }
        return Array(p[start..<end])
    }

    /// NFC, or nil when the input is already normalized (the common case, decided without
    /// allocating).
    ///
    /// NFC only changes text around scalars that are not "stable": a stable scalar (see
    /// `isStable`) has combining class 0, is unchanged by NFC and never composes with the scalar
    /// before it, so the text can be cut before it. Each run of unstable scalars is normalized
    /// together with the one stable scalar before it (which may compose with a following mark,
    /// as `e` + U+0301 → `é`); everything else is copied.
    /// The regions go through the standard library's own NFC (`_nfcCodeUnits`, the normalizer
    /// behind String comparison). Foundation's `precomposedStringWithCanonicalMapping` is not
    /// used: on Linux it mis-orders combining sequences longer than its buffer (found on a
    /// 562-mark "Zalgo" line in code.txt, where HF's NFC and the standard library agree).
    /// - Complexity: O(n); normalization runs only on the short unstable regions.
    static func nfc(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var copied = 0          // bytes of p already in `out`
        var changed = false
        var i = 0
        var lastStable = -1     // start of the last stable scalar
        let n = p.count
        guard let base = p.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        while i < n {
            // ASCII (always stable) eight bytes at a time.
            if i + 8 <= n && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                lastStable = i + 7
                i += 8
                continue
            }
            let b = p[i]
            if b < 0xCC {
                lastStable = i
                i += b < 0x80 ? 1 : 2
                continue
            }
            let (v, len) = decodeScalar(p, i)
            if Normalizer.isStable(v) { lastStable = i; i += len; continue }
            // An unstable run: from the stable scalar before it to the next stable scalar.
            let start = max(lastStable, copied, 0)
            var end = i + len
            while end < n {
                let c = p[end]
                if c < 0xCC { break }
                let (w, l) = decodeScalar(p, end)
                if Normalizer.isStable(w) { break }
                end += l
            }
            let region = UnsafeBufferPointer(rebasing: p[start..<end])
            let normalized = String(decoding: region, as: UTF8.self)._nfcCodeUnits
            if !normalized.elementsEqual(region) {
                if !changed { out.reserveCapacity(n + 16); changed = true }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: p[copied..<start]))
                out.append(contentsOf: normalized)
                copied = end
            }
            i = end
            lastStable = -1
        }
        guard changed else { return nil }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: p[copied..<n]))
        return out
    }

    /// Scalars that are NFC-stable with combining class 0 and are never the second of a
    /// canonical composition: below U+0300, CJK unified ideographs, Hangul syllables, kana
    /// without voicing marks, CJK punctuation and full-width forms.
    @inline(__always)
    static func isStable(_ v: UInt32) -> Bool {
        switch v {
        case 0..<0x300, 0x3001...0x3029, 0x3041...0x3096, 0x30A1...0x30FA, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xAC00...0xD7A3, 0xFF01...0xFF5E:
            return true
        default:
            return false
        }
    }
}
