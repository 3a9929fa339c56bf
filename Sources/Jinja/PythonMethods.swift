// The Python methods templates call on values: str (strip, split, startswith, replace, format,
// ...), list and tuple (count, index, copy), dict (get, items, keys, values, copy, fromkeys), and
// a few number attributes. The sandbox refuses the mutating list/dict methods before they get
// here (see `Access.swift`); str methods keep provenance (see `PyString.swift`).
//
// Indexes and counts are in code points, as in Python.

enum PythonMethods {
    /// Checks a built-in method's argument count (positional only).
    static func arity(_ name: String, _ args: Arguments, _ min: Int, _ max: Int) throws(JinjaError) {
        if !args.keywords.isEmpty { throw .typeError("\(name)() takes no keyword arguments") }
        let n = args.positional.count
        if n < min {
            throw .typeError(min == max ? "\(name)() takes exactly \(min == 1 ? "one argument" : "\(min) arguments") (\(n) given)"
                                        : "\(name)() takes at least \(min) argument\(min == 1 ? "" : "s") (\(n) given)")
        }
        if n > max {
            throw .typeError(max == 0 ? "\(name)() takes no arguments (\(n) given)" : "\(name)() takes at most \(max) argument\(max == 1 ? "" : "s") (\(n) given)")
        }
    }

    static func stringArg(_ v: Value, _ what: String) throws(JinjaError) -> PyString {
        guard case .string(let s) = v else { throw .typeError("\(what) must be str, not \(v.typeName)") }
        return s
    }

    // MARK: str

    static func callString(_ s: PyString, _ member: Member, _ args: Arguments, _ interp: Interpreter) throws(JinjaError) -> Value {
        let a = args.positional
        let name = member.rawValue
        switch member {
        case .strip, .lstrip, .rstrip:
            try arity(name, args, 0, 1)
            let chars = a.first ?? .none
            return .string(try strip(s, chars, left: member != .rstrip, right: member != .lstrip))
        case .split, .rsplit:
            var sep: Value = .none
            var maxsplit = -1
            if a.count > 2 { throw .typeError("\(name)() takes at most 2 arguments (\(a.count) given)") }
            if a.count > 0 { sep = a[0] }
            if a.count > 1 { maxsplit = try intArg(a[1]) }
            for (k, v) in args.keywords {
                switch k {
                case "sep": sep = v
                case "maxsplit": maxsplit = try intArg(v)
                default: throw .typeError("\(name)() got an unexpected keyword argument \(PyRepr.string(k))")
                }
            }
            let parts: [PyString]
            switch sep {
            case .none: parts = member == .split ? splitWhitespace(s, maxsplit) : rsplitWhitespace(s, maxsplit)
            case .string(let sepStr):
                if sepStr.isEmpty { throw .valueError("empty separator") }
                parts = member == .split ? split(s, sepStr.utf8, maxsplit) : rsplit(s, sepStr.utf8, maxsplit)
            default: throw .typeError("must be str or None, not \(sep.typeName)")
            }
            try interp.budget.container(parts.count)
            return .list(PyList(parts.map { .string($0) }, depth: 1))
        case .splitlines:
            var keepends = false
            if let k = a.first ?? args.keyword("keepends") { keepends = k.isTruthy }
            let parts = splitlines(s, keepends: keepends)
            try interp.budget.container(parts.count)
            return .list(PyList(parts.map { .string($0) }, depth: 1))
        case .startswith, .endswith:
            try arity(name, args, 1, 3)
            let (lo, hi) = try codePointRange(s, a.count > 1 ? a[1] : nil, a.count > 2 ? a[2] : nil)
            var candidates: [PyString] = []
            switch a[0] {
            case .string(let p): candidates = [p]
            case .tuple(let t):
                for x in t.items {
                    guard case .string(let p) = x else {
                        throw .typeError("tuple for \(name) must only contain str, not \(x.typeName)")
                    }
                    candidates.append(p)
                }
            default:
                throw .typeError("\(name) first arg must be str or a tuple of str, not \(a[0].typeName)")
            }
            if lo > hi { return .bool(false) }
            let hay = s.utf8[lo..<hi]
            for p in candidates {
                if p.utf8.count <= hay.count {
                    let ok = member == .startswith ? hay.prefix(p.utf8.count).elementsEqual(p.utf8) : hay.suffix(p.utf8.count).elementsEqual(p.utf8)
                    if ok { return .bool(true) }
                }
            }
            return .bool(false)
        case .find, .rfind, .index, .rindex, .count:
            try arity(name, args, 1, 3)
            let sub = try stringArg(a[0], "argument")
            let (lo, hi) = try codePointRange(s, a.count > 1 ? a[1] : nil, a.count > 2 ? a[2] : nil)
            if member == .count {
                if lo > hi { return .int(0) }
                if sub.isEmpty { return .int(PyUnicode.scalarCount(s.utf8, lo, hi) + 1) }
                var n = 0
                var i = lo
                while let f = PyString.find(sub.utf8, in: s.utf8, from: i, to: hi) {
                    n += 1
                    i = f + sub.utf8.count
                }
                return .int(n)
            }
            var found: Int? = nil
            if lo <= hi {
                found = member == .rfind || member == .rindex ? PyString.rfind(sub.utf8, in: s.utf8, from: lo, to: hi)
                                             : PyString.find(sub.utf8, in: s.utf8, from: lo, to: hi)
            }
            guard let f = found else {
                if member == .index || member == .rindex { throw .valueError("substring not found") }
                return .int(-1)
            }
            return .int(PyUnicode.scalarCount(s.utf8, 0, f))
        case .replace:
            try arity(name, args, 2, 3)
            let old = try stringArg(a[0], "replace() argument 1")
            let new = try stringArg(a[1], "replace() argument 2")
            let count = a.count > 2 ? try intArg(a[2]) : -1
            return .string(try replace(s, old, new, count, interp))
        case .lower: try arity(name, args, 0, 0); return .string(caseMap(s, .lower))
        case .upper: try arity(name, args, 0, 0); return .string(caseMap(s, .upper))
        case .casefold: try arity(name, args, 0, 0); return .string(caseMap(s, .fold))
        case .swapcase: try arity(name, args, 0, 0); return .string(caseMap(s, .swap))
        case .title: try arity(name, args, 0, 0); return .string(title(s))
        case .capitalize: try arity(name, args, 0, 0); return .string(capitalize(s))
        case .join:
            try arity(name, args, 1, 1)
            let items = try interp.list(a[0])
            var b = PyStringBuilder()
            for (i, x) in items.enumerated() {
                guard case .string(let p) = x else {
                    throw .typeError("sequence item \(i): expected str instance, \(x.typeName) found")
                }
                if i > 0 { b.append(s) }
                b.append(p)
                try interp.budget.string(b.count)
            }
            b.markup = s.isMarkup
            return .string(b.finish())
        case .format:
            return .string(try PyStrFormat.format(s, args, interp))
        case .formatMap:
            try arity(name, args, 1, 1)
            guard case .dict(let d) = a[0] else { throw .typeError("format_map() argument must be a mapping, not \(a[0].typeName)") }
            var kw: [(String, Value)] = []
            for (k, v) in zip(d.keys, d.values) { if case .string(let ks) = k { kw.append((ks.string, v)) } }
            return .string(try PyStrFormat.format(s, Arguments([], kw), interp))
        case .center, .ljust, .rjust:
            try arity(name, args, 1, 2)
            let width = try intArg(a[0])
            var fill: PyString = PyString(" ")
            if a.count > 1 {
                guard case .string(let f) = a[1], f.count == 1 else {
                    throw .typeError("The fill character must be exactly one character long")
                }
                fill = f
            }
            let n = s.count
            if width <= n { return .string(s) }
            if width > interp.budget.limits.maxStringBytes { throw Budget.stringError(width, interp.budget.limits.maxStringBytes) }
            let total = width - n
            try interp.budget.string(s.utf8.count + total * fill.utf8.count)
            let left: Int
            switch member {
            case .center: left = total / 2 + (total & width & 1)
            case .rjust: left = total
            default: left = 0
            }
            var b = PyStringBuilder()
            for _ in 0..<left { b.append(fill) }
            b.append(s)
            for _ in 0..<(total - left) { b.append(fill) }
            return .string(b.finish())
        case .zfill:
            try arity(name, args, 1, 1)
            let width = try intArg(a[0])
            let n = s.count
            if width <= n { return .string(s) }
            try interp.budget.string(width)
            // (the check above refuses any width beyond JinjaLimits.maxStringBytes)
            var b = PyStringBuilder()
            var rest = 0..<s.utf8.count
            if let c = s.utf8.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                b.append(s, bytes: 0..<1)
                rest = 1..<s.utf8.count
            }
            b.appendLiteral(String(repeating: "0", count: width - n))
            b.append(s, bytes: rest)
            return .string(b.finish())
        case .partition, .rpartition:
            try arity(name, args, 1, 1)
            let sep = try stringArg(a[0], "argument")
            if sep.isEmpty { throw .valueError("empty separator") }
            let f = member == .partition ? s.find(sep.utf8) : PyString.rfind(sep.utf8, in: s.utf8, from: 0, to: s.utf8.count)
            guard let at = f else {
                let parts: [Value] = member == .partition ? [.string(s), .emptyString, .emptyString] : [.emptyString, .emptyString, .string(s)]
                return .tuple(PyList(parts, depth: 1))
            }
            return .tuple(PyList([.string(s.slice(0..<at)), .string(s.slice(at..<at + sep.utf8.count)),
                                  .string(s.slice(at + sep.utf8.count..<s.utf8.count))], depth: 1))
        case .removeprefix:
            try arity(name, args, 1, 1)
            let p = try stringArg(a[0], "removeprefix() argument")
            return .string(s.hasPrefix(p.utf8) ? s.slice(p.utf8.count..<s.utf8.count) : s)
        case .removesuffix:
            try arity(name, args, 1, 1)
            let p = try stringArg(a[0], "removesuffix() argument")
            return .string(!p.isEmpty && s.hasSuffix(p.utf8) ? s.slice(0..<s.utf8.count - p.utf8.count) : s)
        case .expandtabs:
            let size = try intArg(a.first ?? args.keyword("tabsize") ?? .int(8))
            var b = PyStringBuilder()
            var column = 0
            var i = 0
            while i < s.utf8.count {
                let (c, n) = PyUnicode.decode(s.utf8, i)
                if c == 9 {
                    if size > 0 {
                        let spaces = size - column % size
                        b.append(Array(repeating: 32, count: spaces), provenance: s.provenance.slice(i..<i + 1, length: s.utf8.count))
                        column += spaces
                    }
                } else {
                    b.append(s, bytes: i..<i + n)
                    column = (c == 10 || c == 13) ? 0 : column + 1
                }
                i += n
                try interp.budget.string(b.count)
            }
            return .string(b.finish())
        case .isalnum, .isalpha, .isascii, .isdecimal, .isdigit, .isidentifier, .islower, .isnumeric, .isprintable, .isspace, .istitle, .isupper:
            try arity(name, args, 0, 0)
            return .bool(predicate(s.string, name))
        case .encode, .maketrans, .translate:
            throw .notImplemented("str.\(name)")
        default:
            throw .attributeError("'str' object has no attribute \(PyRepr.string(name))")
        }
    }

    static func intArg(_ v: Value) throws(JinjaError) -> Int {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: throw .typeError("'\(v.typeName)' object cannot be interpreted as an integer")
        }
    }

    /// The byte range of the code points `start..<end` (Python slice rules, None = open).
    static func codePointRange(_ s: PyString, _ start: Value?, _ end: Value?) throws(JinjaError) -> (Int, Int) {
        if start == nil && end == nil { return (0, s.utf8.count) }
        let ascii = s.isASCII
        let offs = ascii ? [] : s.scalarOffsets()
        let n = ascii ? s.utf8.count : offs.count - 1
        func idx(_ v: Value?, _ dflt: Int) throws(JinjaError) -> Int {
            guard let v, !v.isNone else { return dflt }
            var i = try intArg(v)
            if i < 0 { i = max(i + n, 0) }
            return min(i, n)
        }
        let lo = try idx(start, 0), hi = try idx(end, n)
        if lo > hi { return (1, 0) }
        return ascii ? (lo, hi) : (offs[lo], offs[hi])
    }

    static func strip(_ s: PyString, _ chars: Value, left: Bool, right: Bool) throws(JinjaError) -> PyString {
        let b = s.utf8
        var set: Set<UInt32>? = nil
        switch chars {
        case .none: break
        case .string(let c): set = Set(c.string.unicodeScalars.map(\.value))
        default: throw .typeError("strip arg must be None or str")
        }
        func strippable(_ c: UInt32) -> Bool { set.map { $0.contains(c) } ?? PyUnicode.isSpace(c) }
        var lo = 0, hi = b.count
        if left {
            while lo < hi {
                let (c, n) = PyUnicode.decode(b, lo)
                if !strippable(c) { break }
                lo += n
            }
        }
        if right {
            while hi > lo {
                let (c, n) = PyUnicode.decodeBackward(b, hi)
                if !strippable(c) { break }
                hi -= n
            }
        }
        return s.slice(lo..<hi)
    }

    static func splitWhitespace(_ s: PyString, _ maxsplit: Int) -> [PyString] {
        let b = s.utf8
        var parts: [PyString] = []
        var i = 0
        var splits = 0
        while true {
            while i < b.count, PyUnicode.whitespaceLength(b, i) > 0 { i += PyUnicode.whitespaceLength(b, i) }
            if i >= b.count { break }
            if maxsplit >= 0 && splits >= maxsplit {
                parts.append(s.slice(i..<b.count))
                break
            }
            let start = i
            while i < b.count, PyUnicode.whitespaceLength(b, i) == 0 { i += PyUnicode.sequenceLength(b[i]) }
            parts.append(s.slice(start..<min(i, b.count)))
            splits += 1
        }
        return parts
    }

    static func rsplitWhitespace(_ s: PyString, _ maxsplit: Int) -> [PyString] {
        let b = s.utf8
        var parts: [PyString] = []
        var i = b.count
        var splits = 0
        while true {
            while i > 0 {
                let (c, n) = PyUnicode.decodeBackward(b, i)
                if !PyUnicode.isSpace(c) { break }
                i -= n
            }
            if i <= 0 { break }
            if maxsplit >= 0 && splits >= maxsplit {
                parts.append(s.slice(0..<i))
                break
            }
            let end = i
            while i > 0 {
                let (c, n) = PyUnicode.decodeBackward(b, i)
                if PyUnicode.isSpace(c) { break }
                i -= n
            }
            parts.append(s.slice(i..<end))
            splits += 1
        }
        return parts.reversed()
    }

    static func split(_ s: PyString, _ sep: [UInt8], _ maxsplit: Int) -> [PyString] {
        var parts: [PyString] = []
        var start = 0
        var splits = 0
        while maxsplit < 0 || splits < maxsplit, let f = PyString.find(sep, in: s.utf8, from: start, to: s.utf8.count) {
            parts.append(s.slice(start..<f))
            start = f + sep.count
            splits += 1
        }
        parts.append(s.slice(start..<s.utf8.count))
        return parts
    }

    static func rsplit(_ s: PyString, _ sep: [UInt8], _ maxsplit: Int) -> [PyString] {
        var parts: [PyString] = []
        var end = s.utf8.count
        var splits = 0
        while maxsplit < 0 || splits < maxsplit, let f = PyString.rfind(sep, in: s.utf8, from: 0, to: end) {
            parts.append(s.slice(f + sep.count..<end))
            end = f
            splits += 1
        }
        parts.append(s.slice(0..<end))
        return parts.reversed()
    }

    static func splitlines(_ s: PyString, keepends: Bool) -> [PyString] {
        let b = s.utf8
        var parts: [PyString] = []
        var start = 0
        var i = 0
        while i < b.count {
            let (c, n) = PyUnicode.decode(b, i)
            if PyUnicode.isLineBreak(c) {
                var eol = i + n
                if c == 13 && eol < b.count && b[eol] == 10 { eol += 1 }
                parts.append(s.slice(start..<(keepends ? eol : i)))
                start = eol
                i = eol
            } else {
                i += n
            }
        }
        if start < b.count { parts.append(s.slice(start..<b.count)) }
        return parts
    }

    static func replace(_ s: PyString, _ old: PyString, _ new: PyString, _ count: Int, _ interp: Interpreter) throws(JinjaError) -> PyString {
        var b = PyStringBuilder(capacity: s.utf8.count)
        b.markup = s.isMarkup
        var n = 0
        if old.isEmpty {
            var i = 0
            while i <= s.utf8.count {
                if count >= 0 && n >= count {
                    b.append(s, bytes: i..<s.utf8.count)
                    break
                }
                b.append(new)
                n += 1
                if i == s.utf8.count { break }
                let l = PyUnicode.sequenceLength(s.utf8[i])
                b.append(s, bytes: i..<min(i + l, s.utf8.count))
                i += l
                try interp.budget.string(b.count)
            }
            return b.finish()
        }
        var start = 0
        while count < 0 || n < count, let f = s.find(old.utf8, from: start) {
            b.append(s, bytes: start..<f)
            b.append(new)
            start = f + old.utf8.count
            n += 1
            try interp.budget.string(b.count)
        }
        if n == 0 { return s }
        b.append(s, bytes: start..<s.utf8.count)
        return b.finish()
    }

    /// Maps each code point (`upper`, `lower` with final sigma, `swapcase`, `casefold`).
    static func caseMap(_ s: PyString, _ c: PyUnicode.Case) -> PyString {
        if s.isASCII {
            var bytes = s.utf8
            for i in bytes.indices {
                let x = bytes[i]
                switch c {
                case .upper, .title: if x >= 0x61 && x <= 0x7A { bytes[i] = x - 32 }
                case .lower, .fold: if x >= 0x41 && x <= 0x5A { bytes[i] = x + 32 }
                case .swap:
                    if x >= 0x61 && x <= 0x7A { bytes[i] = x - 32 } else if x >= 0x41 && x <= 0x5A { bytes[i] = x + 32 }
                }
            }
            return PyString(bytes, s.provenance, markup: s.isMarkup)
        }
        return mapScalars(s) { scalars, i in
            let sc = scalars[i]
            if sc.value == 0x3A3 && (c == .lower || (c == .swap)) {
                return PyUnicode.finalSigma(scalars, i) ? "ς" : "σ"
            }
            return PyUnicode.map(sc, c)
        }
    }

    /// Python's `str.title()`.
    static func title(_ s: PyString) -> PyString {
        var previousCased = false
        return mapScalars(s) { scalars, i in
            let sc = scalars[i]
            let m: String
            if previousCased {
                m = sc.value == 0x3A3 ? (PyUnicode.finalSigma(scalars, i) ? "ς" : "σ") : PyUnicode.map(sc, .lower)
            } else {
                m = PyUnicode.map(sc, .title)
            }
            previousCased = sc.properties.isCased
            return m
        }
    }

    /// Python's `str.capitalize()`: the first character in title case, the rest lower case.
    static func capitalize(_ s: PyString) -> PyString {
        mapScalars(s) { scalars, i in
            if i == 0 { return PyUnicode.map(scalars[0], .title) }
            if scalars[i].value == 0x3A3 { return PyUnicode.finalSigma(scalars, i) ? "ς" : "σ" }
            return PyUnicode.map(scalars[i], .lower)
        }
    }

    /// Maps each code point; each result keeps the provenance of the code point it came from.
    static func mapScalars(_ s: PyString, _ f: ([Unicode.Scalar], Int) -> String) -> PyString {
        let str = s.string
        let scalars = Array(str.unicodeScalars)
        var b = PyStringBuilder(capacity: s.utf8.count)
        var offset = 0
        for i in scalars.indices {
            let len = UTF8.width(scalars[i])
            let mapped = Array(f(scalars, i).utf8)
            if s.provenance.hasData {
                b.append(mapped, provenance: s.provenance.slice(offset..<offset + len, length: s.utf8.count))
            } else {
                b.appendLiteral(mapped)
            }
            offset += len
        }
        b.markup = s.isMarkup
        return b.finish()
    }

    static func predicate(_ s: String, _ name: String) -> Bool {
        let scalars = Array(s.unicodeScalars)
        switch name {
        case "isascii": return scalars.allSatisfy { $0.isASCII }
        case "isidentifier": return PyUnicode.isIdentifier(s)
        case "isprintable": return scalars.allSatisfy(PyUnicode.isPrintable)
        default: break
        }
        if scalars.isEmpty { return false }
        switch name {
        case "isalnum": return scalars.allSatisfy(PyUnicode.isAlnum)
        case "isalpha": return scalars.allSatisfy(PyUnicode.isAlpha)
        case "isdecimal": return scalars.allSatisfy(PyUnicode.isDecimal)
        case "isdigit": return scalars.allSatisfy(PyUnicode.isDigit)
        case "isnumeric": return scalars.allSatisfy(PyUnicode.isNumeric)
        case "isspace": return scalars.allSatisfy { PyUnicode.isSpace($0.value) }
        case "islower":
            var cased = false
            for c in scalars {
                if c.properties.isUppercase || PyUnicode.isTitlecase(c) { return false }
                if c.properties.isLowercase { cased = true }
            }
            return cased
        case "isupper":
            var cased = false
            for c in scalars {
                if c.properties.isLowercase || PyUnicode.isTitlecase(c) { return false }
                if c.properties.isUppercase { cased = true }
            }
            return cased
        case "istitle":
            var cased = false
            var previousCased = false
            for c in scalars {
                if c.properties.isUppercase || PyUnicode.isTitlecase(c) {
                    if previousCased { return false }
                    previousCased = true
                    cased = true
                } else if c.properties.isLowercase {
                    if !previousCased { return false }
                    previousCased = true
                    cased = true
                } else {
                    previousCased = false
                }
            }
            return cased
        default: return false
        }
    }
}
