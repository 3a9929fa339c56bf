// PyString: a Python `str` as UTF-8 bytes, with its provenance (which bytes came from the data
// the template was given) and jinja2's Markup flag.
//
// Provenance. Strings that enter through the render's data (message contents, tool arguments,
// any string inside `messages`, `tools`, `documents`) are `.data`; template literals and the
// caller's plain variables (`bos_token`, ...) are `.literal`. Every operation that builds a string
// from other strings carries the byte ranges along: concatenation, `~`, joins, slices and
// indexing, strip/trim, split, replace, case mapping (per character), `format`/`%` and `tojson`
// (a data string's whole quoted form is data). Where a result cannot be traced to its sources
// byte by byte (for example `center`, `wordwrap`, `indent`'s inserted spaces are literal but a
// data line keeps its provenance) the rule is conservative: when in doubt, text derived from data
// is data. The render reports the output's data ranges (`ChatRendering.dataSpans`).
//
// Python indexes strings by code point; here indexes are byte offsets into UTF-8, converted from
// code points only where Python's semantics need it (len, indexing, slicing, find). ASCII strings
// (the common case) take the direct path.

/// Which bytes of a string came from data.
enum Provenance: Equatable, Sendable {
    /// No byte came from data.
    case literal
    /// Every byte came from data.
    case data
    /// One data range, neither empty nor the whole string (the common case of a concatenation:
    /// kept inline, no allocation).
    case span(Int32, Int32)
    /// Two or more sorted, disjoint, non-adjacent, non-empty byte ranges.
    case mixed([Range<Int>])

    /// The data ranges of a string of `length` bytes.
    func ranges(length: Int) -> [Range<Int>] {
        switch self {
        case .literal: return []
        case .data: return length > 0 ? [0..<length] : []
        case .span(let a, let b): return [Int(a)..<Int(b)]
        case .mixed(let r): return r
        }
    }

    /// The provenance of the bytes `sub` of a string of `length` bytes, rebased to 0.
    func slice(_ sub: Range<Int>, length: Int) -> Provenance {
        switch self {
        case .literal, .data: return sub.isEmpty ? .literal : self
        case .span(let a, let b):
            let lo = max(Int(a), sub.lowerBound), hi = min(Int(b), sub.upperBound)
            if lo >= hi { return .literal }
            if lo == sub.lowerBound && hi == sub.upperBound { return .data }
            return .span(Int32(lo - sub.lowerBound), Int32(hi - sub.lowerBound))
        case .mixed(let rs):
            var b = ProvenanceBuilder()
            for r in rs {
                let lo = max(r.lowerBound, sub.lowerBound), hi = min(r.upperBound, sub.upperBound)
                if lo < hi { b.addData(lo - sub.lowerBound..<hi - sub.lowerBound) }
            }
            return b.finish(length: sub.count)
        }
    }

    var hasData: Bool { if case .literal = self { return false }; return true }
}

/// Collects data ranges while a string is built piece by piece. The first range is kept inline;
/// an array is allocated only for a second one.
struct ProvenanceBuilder {
    var first: Range<Int>? = nil
    var more: [Range<Int>] = []

    var ranges: [Range<Int>] {
        guard let first else { return [] }
        return [first] + more
    }

    mutating func addData(_ r: Range<Int>) {
        guard !r.isEmpty else { return }
        guard let f = first else {
            first = r
            return
        }
        if more.isEmpty {
            if f.upperBound >= r.lowerBound {
                first = f.lowerBound..<max(f.upperBound, r.upperBound)
            } else {
                more.append(r)
            }
            return
        }
        let last = more[more.count - 1]
        if last.upperBound >= r.lowerBound {
            more[more.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
        } else {
            more.append(r)
        }
    }

    /// Records that the `length` bytes at `offset` have provenance `p`.
    @inline(__always)
    mutating func add(_ p: Provenance, at offset: Int, length: Int) {
        switch p {
        case .literal: return
        case .data: addData(offset..<offset + length)
        case .span(let a, let b): addData(Int(a) + offset..<Int(b) + offset)
        case .mixed(let rs): for r in rs { addData(r.lowerBound + offset..<r.upperBound + offset) }
        }
    }

    /// Forgets everything at or after byte `n`.
    mutating func truncate(to n: Int) {
        while let last = more.last, last.lowerBound >= n { more.removeLast() }
        if let last = more.last, last.upperBound > n { more[more.count - 1] = last.lowerBound..<n }
        if more.isEmpty, let f = first {
            if f.lowerBound >= n { first = nil } else if f.upperBound > n { first = f.lowerBound..<n }
        }
    }

    /// The data ranges at or after byte `mark`, rebased to `mark`.
    func provenance(from mark: Int, length: Int) -> Provenance {
        var b = ProvenanceBuilder()
        for r in ranges where r.upperBound > mark { b.addData(max(r.lowerBound, mark) - mark..<r.upperBound - mark) }
        return b.finish(length: length)
    }

    func finish(length: Int) -> Provenance {
        guard let f = first else { return .literal }
        if more.isEmpty {
            if f.lowerBound == 0 && f.upperBound >= length { return .data }
            return .span(Int32(f.lowerBound), Int32(f.upperBound))
        }
        return .mixed([f] + more)
    }
}

struct PyString: Sendable {
    var utf8: [UInt8]
    var provenance: Provenance
    /// jinja2's `Markup` (from `|safe`, `|escape`): `+` and `%` escape plain strings mixed in.
    var isMarkup: Bool

    init(_ utf8: [UInt8], _ provenance: Provenance = .literal, markup: Bool = false) {
        self.utf8 = utf8
        self.provenance = utf8.isEmpty ? .literal : provenance
        self.isMarkup = markup
    }

    init(_ s: String, _ provenance: Provenance = .literal) {
        self.init(PyString.bytes(of: s), provenance)
    }

    /// The UTF-8 bytes of a String (a memcpy for native strings).
    @inline(__always)
    static func bytes(of s: String) -> [UInt8] {
        var s = s
        return s.withUTF8 { Array($0) }
    }

    static let empty = PyString([UInt8]())

    var string: String { String(decoding: utf8, as: UTF8.self) }
    var byteCount: Int { utf8.count }
    var isEmpty: Bool { utf8.isEmpty }

    /// The provenance of a string derived from this one as a whole (conservative: any data → data).
    var wholeProvenance: Provenance { provenance.hasData ? .data : .literal }

    /// The bytes `r` as a new string, provenance kept.
    func slice(_ r: Range<Int>) -> PyString {
        if r.lowerBound == 0 && r.upperBound == utf8.count { return self }
        return PyString(Array(utf8[r]), provenance.slice(r, length: utf8.count), markup: isMarkup)
    }

    /// Python's `len()`: the number of code points.
    var count: Int { PyUnicode.scalarCount(utf8, 0, utf8.count) }

    var isASCII: Bool { PyUnicode.isASCII(utf8) }

    /// Byte offsets of each code point boundary (count + 1 entries), for code-point indexing.
    func scalarOffsets() -> [Int] {
        var offs: [Int] = []
        offs.reserveCapacity(utf8.count + 1)
        for (i, b) in utf8.enumerated() where b & 0xC0 != 0x80 { offs.append(i) }
        offs.append(utf8.count)
        return offs
    }

    static func == (a: PyString, b: PyString) -> Bool { a.utf8 == b.utf8 }

    func hasPrefix(_ p: [UInt8]) -> Bool {
        p.count <= utf8.count && utf8[..<p.count].elementsEqual(p)
    }

    func hasSuffix(_ p: [UInt8]) -> Bool {
        p.count <= utf8.count && utf8[(utf8.count - p.count)...].elementsEqual(p)
    }

    /// The byte offset of the first occurrence of `needle` at or after `from` and ending by `to`.
    func find(_ needle: [UInt8], from: Int = 0, to: Int? = nil) -> Int? {
        PyString.find(needle, in: utf8, from: from, to: to ?? utf8.count)
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int, to: Int) -> Int? {
        let n = needle.count
        if n == 0 { return from <= to ? from : nil }
        if to - from < n { return nil }
        let first = needle[0]
        var i = from
        let last = to - n
        while i <= last {
            if hay[i] == first {
                var k = 1
                while k < n && hay[i + k] == needle[k] { k += 1 }
                if k == n { return i }
            }
            i += 1
        }
        return nil
    }

    static func rfind(_ needle: [UInt8], in hay: [UInt8], from: Int, to: Int) -> Int? {
        let n = needle.count
        if n == 0 { return from <= to ? to : nil }
        if to - from < n { return nil }
        var i = to - n
        while i >= from {
            var k = 0
            while k < n && hay[i + k] == needle[k] { k += 1 }
            if k == n { return i }
            i -= 1
        }
        return nil
    }
}

/// A growing string with provenance (for join, replace, format, capture buffers, ...).
struct PyStringBuilder {
    var bytes: [UInt8] = []
    var prov = ProvenanceBuilder()
    var markup = false

    init(capacity: Int = 0) {
        if capacity > 0 { bytes.reserveCapacity(capacity) }
    }

    mutating func append(_ s: PyString) {
        prov.add(s.provenance, at: bytes.count, length: s.utf8.count)
        bytes.append(contentsOf: s.utf8)
    }

    mutating func append(_ s: PyString, bytes r: Range<Int>) {
        if r.isEmpty { return }
        let p = s.provenance.slice(r, length: s.utf8.count)
        prov.add(p, at: bytes.count, length: r.count)
        bytes.append(contentsOf: s.utf8[r])
    }

    /// Appends template-side text.
    mutating func appendLiteral(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func appendLiteral(_ s: String) { bytes.append(contentsOf: s.utf8) }
    mutating func appendLiteral(_ b: UInt8) { bytes.append(b) }

    /// Appends text with the given provenance as a whole.
    mutating func append(_ b: [UInt8], provenance: Provenance) {
        prov.add(provenance == .literal ? .literal : .data, at: bytes.count, length: b.count)
        bytes.append(contentsOf: b)
    }

    var count: Int { bytes.count }

    func finish() -> PyString {
        PyString(bytes, prov.finish(length: bytes.count), markup: markup)
    }
}
