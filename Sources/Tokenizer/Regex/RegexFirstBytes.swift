// What a match can start with, computed from the parsed pattern: the matcher skips positions
// whose byte cannot start a match without running the program there.

enum RegexFirstBytes {
    /// The first-byte table of `node`, or nil if the pattern can match the empty string (every
    /// position is then a candidate). Conservative: a true entry may still fail to match.
    static func compute(_ node: RegexNode) -> [Bool]? {
        var table = [Bool](repeating: false, count: 256)
        return add(node, &table) ? nil : table
    }

    /// The pattern's bytes when it is a plain literal (no case folding), else nil.
    static func literalBytes(_ node: RegexNode) -> [UInt8]? {
        var out: [UInt8] = []
        func add(_ c: UInt32) { appendUTF8(c, to: &out) }
        switch node {
        case .literal(let c, false): add(c)
        case .group(let x): return literalBytes(x)
        case .concat(let xs):
            for x in xs {
                guard case .literal(let c, false) = x else { return nil }
                add(c)
            }
        default: return nil
        }
        return out
    }

    /// Adds the first bytes of `node` to `table`; true if `node` can match empty.
    private static func add(_ node: RegexNode, _ table: inout [Bool]) -> Bool {
        switch node {
        case .empty, .anchor, .look: return true
        case let .literal(c, fold):
            if fold { addFolded(UnicodeTables.fold(c)[0], &table) } else { addLeadBytes(c...c, &table) }
            return false
        case let .set(s, multi):
            for r in s.ranges { addLeadBytes(r, &table) }
            for m in multi { addFolded(m[0], &table) }
            return false
        case .concat(let xs):
            for x in xs where !add(x, &table) { return false }
            return true
        case .alternation(let xs):
            var nullable = false
            for x in xs where add(x, &table) { nullable = true }
            return nullable
        case let .quantified(x, min, max, _, _):
            if max == 0 { return true }
            let n = add(x, &table)
            return n || min == 0
        case .atomic(let x), .group(let x): return add(x, &table)
        }
    }

    /// Lead bytes of every scalar whose case folding starts with the folded scalar `f0`.
    private static func addFolded(_ f0: UInt32, _ table: inout [Bool]) {
        for t in UnicodeTables.orbits[f0] ?? [f0] { addLeadBytes(t...t, &table) }
        for (m, _) in UnicodeTables.multiFolds where UnicodeTables.fold(m)[0] == f0 { addLeadBytes(m...m, &table) }
    }

    private static func addLeadBytes(_ r: ClosedRange<UInt32>, _ table: inout [Bool]) {
        // Split the range at the UTF-8 length boundaries; within each part the lead byte grows
        // monotonically with the scalar.
        let parts: [(UInt32, UInt32, (UInt32) -> Int)] = [
            (0, 0x7F, { Int($0) }),
            (0x80, 0x7FF, { Int(0xC0 | ($0 >> 6)) }),
            (0x800, 0xFFFF, { Int(0xE0 | ($0 >> 12)) }),
            (0x10000, 0x10FFFF, { Int(0xF0 | ($0 >> 18)) }),
        ]
        for (lo, hi, lead) in parts {
            let a = max(lo, r.lowerBound), b = min(hi, r.upperBound)
            if a > b { continue }
            for x in lead(a)...lead(b) { table[x] = true }
        }
    }
}

/// Appends the UTF-8 encoding of scalar `c` (a valid scalar value).
func appendUTF8(_ c: UInt32, to out: inout [UInt8]) {
    if c < 0x80 {
        out.append(UInt8(c))
    } else if c < 0x800 {
        out.append(UInt8(0xC0 | c >> 6))
        out.append(UInt8(0x80 | c & 0x3F))
    } else if c < 0x10000 {
        out.append(UInt8(0xE0 | c >> 12))
        out.append(UInt8(0x80 | (c >> 6) & 0x3F))
        out.append(UInt8(0x80 | c & 0x3F))
    } else {
        out.append(UInt8(0xF0 | c >> 18))
        out.append(UInt8(0x80 | (c >> 12) & 0x3F))
        out.append(UInt8(0x80 | (c >> 6) & 0x3F))
        out.append(UInt8(0x80 | c & 0x3F))
    }
}
