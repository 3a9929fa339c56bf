// Normalization: `null` or NFC (what pythia / GPT-NeoX's tokenizer.json asks for).

enum Normalizer: Sendable, Equatable {
    case none
    case nfc

    /// Returns the normalized bytes, or nil when the input is already normalized (the common case,
    /// decided without allocating).
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
    func apply(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard self == .nfc else { return nil }
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
