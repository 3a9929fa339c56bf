// Lookups over the generated Unicode tables (UnicodeTables.swift): property sets by name and
// Oniguruma's case folding. Decoded once, on first use, into immutable values.

enum UnicodeTables {
    /// Decodes a base-32 varint string (digits `0-9A-V` end a number, `W-Z a-z + *` continue it;
    /// anything else, such as the line breaks of the multi-line literals, is skipped).
    static func decode(_ s: String) -> [UInt32] {
        var out: [UInt32] = []
        var acc: UInt32 = 0
        for b in s.utf8 {
            let d: UInt32
            var last = false
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0")); last = true
            case UInt8(ascii: "A")...UInt8(ascii: "V"): d = UInt32(b - UInt8(ascii: "A")) + 10; last = true
            case UInt8(ascii: "W")...UInt8(ascii: "Z"): d = UInt32(b - UInt8(ascii: "W"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): d = UInt32(b - UInt8(ascii: "a")) + 4
            case UInt8(ascii: "+"): d = 30
            case UInt8(ascii: "*"): d = 31
            default: continue
            }
            acc = acc << 5 | d
            if last { out.append(acc); acc = 0 }
        }
        return out
    }

    /// A range list encoded as (gap from the previous range's end, length - 1) pairs.
    static func decodeRanges(_ s: String) -> ScalarSet {
        let n = decode(s)
        var b: [UInt32] = []
        b.reserveCapacity(n.count)
        var prev: Int64 = -1
        var i = 0
        while i + 1 < n.count {
            let lo = prev + 1 + Int64(n[i])
            let hi = lo + Int64(n[i + 1])
            b.append(UInt32(lo))
            b.append(UInt32(hi))
            prev = hi
            i += 2
        }
        return ScalarSet(bounds: b)
    }

    static let sets: [ScalarSet] = encodedSets.map(decodeRanges)

    /// A set by its table name (`"L"`, `"\\s"`, `"[:punct:]"`, `"hf:numeric"`...).
    static func set(_ name: String) -> ScalarSet {
        guard let i = names[name] else { preconditionFailure("no Unicode table named \(name)") }
        return sets[i]
    }

    /// Oniguruma compares property names ignoring case, spaces, `-` and `_`.
    static func normalizedPropertyName(_ name: String) -> String {
        String(name.lowercased().unicodeScalars.filter { $0 != " " && $0 != "-" && $0 != "_" })
    }

    private static let propertyIndex: [String: Int] = {
        var d: [String: Int] = [:]
        for (name, i) in names where !name.hasPrefix("\\") && !name.hasPrefix("[") && !name.contains(":") {
            d[normalizedPropertyName(name)] = i
        }
        for (long, short) in longNames { d[normalizedPropertyName(long)] = names[short] }
        return d
    }()

    /// The set `\p{name}` stands for, or nil for a name finetok does not know (scripts, blocks...).
    static func property(_ name: String) -> ScalarSet? {
        propertyIndex[normalizedPropertyName(name)].map { sets[$0] }
    }

    /// Each cased scalar's simple case-folding orbit (the scalars `(?i)X` matches), sorted.
    static let orbits: [UInt32: [UInt32]] = {
        let n = decode(encodedOrbits)
        var d: [UInt32: [UInt32]] = [:]
        var i = 0
        while i < n.count {
            let count = Int(n[i])
            let members = Array(n[(i + 1)..<(i + 1 + count)])
            for m in members { d[m] = members }
            i += 1 + count
        }
        return d
    }()

    /// Scalars whose full case folding is several scalars (`ß` → `ss`), as Oniguruma uses them.
    static let multiFolds: [UInt32: [UInt32]] = {
        let n = decode(encodedMultiFolds)
        var d: [UInt32: [UInt32]] = [:]
        var i = 0
        while i + 1 < n.count {
            let count = Int(n[i + 1])
            d[n[i]] = Array(n[(i + 2)..<(i + 2 + count)])
            i += 2 + count
        }
        return d
    }()

    /// The representative of a scalar's orbit (its smallest member), or the scalar itself.
    static func canonical(_ c: UInt32) -> UInt32 { orbits[c]?.first ?? c }

    /// A scalar's full case folding, each scalar replaced by its orbit's representative.
    static func fold(_ c: UInt32) -> [UInt32] {
        if let m = multiFolds[c] { return m.map(canonical) }
        return [canonical(c)]
    }

    /// The folded forms of every multi-scalar fold, as canonical sequences (`ss`, `st`, `ff`...).
    static let multiFoldTargets: Set<[UInt32]> = Set(multiFolds.keys.map { fold($0) })

    /// `set` closed under simple case folding: every member's orbit added.
    static func caseClosed(_ set: ScalarSet) -> ScalarSet {
        var extra: [ClosedRange<UInt32>] = []
        for (c, orbit) in orbits where set.contains(c) {
            for m in orbit where m != c { extra.append(m...m) }
        }
        return extra.isEmpty ? set : ScalarSet(ranges: set.ranges + extra)
    }
}
