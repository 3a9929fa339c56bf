// A small, strict JSON reader (RFC 8259) used for tokenizer files and JSONL rows.
//
// Why not Foundation's JSONSerialization: we need the byte offset of every error (to print
// `file:line:column`), Python's duplicate-key rule (the last one wins), a refusal of invalid
// UTF-8 and lone `\u` surrogates (HF `tokenizers` cannot encode them either), and speed on
// 100k-entry vocabularies. Objects keep their members in order as an array of pairs.

/// A parsed JSON value.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, with its source text kept so integers are read exactly.
    case number(Double, isInteger: Bool)
    case string(String)
    case array([JSONValue])
    /// Members in document order; duplicate keys are kept, and lookups take the last.
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x, _), .number(y, _)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object (the last one, if repeated), else nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for (k, v) in members.reversed() where k == key { return v }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [(String, JSONValue)]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
    /// The value as an exact integer, if it is a number without fraction or exponent.
    public var intValue: Int? {
        guard case .number(let d, let isInt) = self, isInt, abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    /// A short name of the value's type, for error messages ("a string", "null", ...).
    public var typeDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON syntax error at a byte offset of the input.
public struct JSONError: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String
}

/// A member's value as `JSON.forEachMember` hands it over: a string as its decoded UTF-8 bytes
/// (valid during the call only), anything else parsed.
public enum JSONMember {
    case string(UnsafeBufferPointer<UInt8>)
    case other(JSONValue)
}

/// Line and column (both 1-based, column in bytes) of a byte offset.
public func lineAndColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
    var line = 1, lineStart = 0
    let end = min(offset, bytes.count)
    var i = 0
    while i < end {
        if bytes[i] == UInt8(ascii: "\n") { line += 1; lineStart = i + 1 }
        i += 1
    }
    return (line, end - lineStart + 1)
}

public enum JSON {
    /// Parses one JSON document that must span all of `bytes` (surrounding white space allowed).
    /// - Complexity: O(n).
    /// - Throws: `JSONError` with the byte offset of the first problem.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var p = JSONParser(bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i != bytes.count {
            throw JSONError(offset: p.i, message: "unexpected text after the JSON value")
        }
        return v
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        do {
            return try bytes.withUnsafeBufferPointer { buf in try parse(buf) }
        } catch let e as JSONError {
            throw e
        } catch {
            throw JSONError(offset: 0, message: "\(error)")
        }
    }

    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Whether a line of a JSON Lines file is blank (spaces, tabs, a CR): such lines are skipped.
    public static func isBlankLine(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// Reads one JSON document spanning `bytes` as `parse` does, with the same errors, without
    /// a value tree for a top-level object: `key` gets each member's key as its decoded UTF-8
    /// and returns a number for it (the caller's index of the key, say), then `body` gets that
    /// number and the member's value: a string value as its decoded UTF-8 (checked), anything
    /// else parsed. Bytes are valid during the call only, so no String is made for a key or a
    /// string value. Returns nil for an object, else the value (which is not an object).
    /// A JSONL row's fields are read this way (a String and its release per field, and an array
    /// of members per row, were a fifth of a build's encoding thread on short rows).
    /// - Parameter escapes: memory to decode strings with escapes in (any size; the reader
    ///   allocates its own when it is shorter than `bytes`), so that a row allocates nothing.
    public static func forEachMember(_ bytes: UnsafeBufferPointer<UInt8>, escapes: UnsafeMutableBufferPointer<UInt8>? = nil,
                                     key: (UnsafeBufferPointer<UInt8>) -> Int,
                                     _ body: (Int, JSONMember) -> Void) throws(JSONError) -> JSONValue? {
        var p = JSONParser(bytes)
        p.escapes = escapes
        p.skipSpace()
        guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "{") else { return try parse(bytes) }
        try p.members(depth: 0, key: key) { (p: inout JSONParser, key: Int) throws(JSONError) in
            if p.i < p.b.count, p.b[p.i] == UInt8(ascii: "\"") {
                try p.withString { body(key, .string($0)) }
            } else {
                body(key, .other(try p.value(depth: 1)))
            }
        }
        p.skipSpace()
        if p.i != bytes.count {
            throw JSONError(offset: p.i, message: "unexpected text after the JSON value")
        }
        return nil
    }

    /// Writes `s` as a JSON string literal (with quotes), escaping as Python's
    /// `json.dumps(ensure_ascii=False)` does.
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(92); out.append(b)
            case 92: out.append(92); out.append(92)
            case 10: out.append(92); out.append(UInt8(ascii: "n"))
            case 13: out.append(92); out.append(UInt8(ascii: "r"))
            case 9: out.append(92); out.append(UInt8(ascii: "t"))
            case 8: out.append(92); out.append(UInt8(ascii: "b"))
            case 12: out.append(92); out.append(UInt8(ascii: "f"))
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    /// Where strings with escapes are decoded, when it has room for the rest of the input.
    var escapes: UnsafeMutableBufferPointer<UInt8>? = nil
    static let maxDepth = 512

    init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

    mutating func skipSpace() {
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
    }

    func fail(_ msg: String, at pos: Int? = nil) -> JSONError {
        JSONError(offset: pos ?? i, message: msg)
    }

    mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        guard i < b.count else { throw fail("unexpected end of input, expected a value") }
        if depth > JSONParser.maxDepth { throw fail("nesting deeper than \(JSONParser.maxDepth) levels") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default:
            throw fail("unexpected character \(describe(b[i])), expected a value")
        }
    }

    func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16, uppercase: true))"
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        let start = i
        guard i + n <= b.count else { throw fail("invalid literal, expected '\(word)'", at: start) }
        let p = word.utf8Start
        for k in 0..<n where b[i + k] != p[k] {
            throw fail("invalid literal, expected '\(word)'", at: start)
        }
        i += n
    }

    mutating func number() throws(JSONError) -> JSONValue {
        let start = i
        var isInt = true
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, b[i] >= 48, b[i] <= 57 else { throw fail("invalid number", at: start) }
        if b[i] == 48 {
            i += 1
            if i < b.count, b[i] >= 48, b[i] <= 57 { throw fail("invalid number (leading zero)", at: start) }
        } else {
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            isInt = false
            i += 1
            guard i < b.count, b[i] >= 48, b[i] <= 57 else { throw fail("invalid number (digit expected after '.')", at: i) }
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            isInt = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, b[i] >= 48, b[i] <= 57 else { throw fail("invalid number (digit expected in exponent)", at: i) }
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        }
        // Fast path for small integers; Double parsing otherwise.
        if isInt && i - start <= 15 {
            var v = 0
            var k = start
            let neg = b[k] == UInt8(ascii: "-")
            if neg { k += 1 }
            while k < i { v = v * 10 + Int(b[k] - 48); k += 1 }
            return .number(Double(neg ? -v : v), isInteger: true)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let d = Double(text) else { throw fail("invalid number", at: start) }
        return .number(d, isInteger: isInt)
    }

    mutating func array(depth: Int) throws(JSONError) -> JSONValue {
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input inside an array, expected ',' or ']'") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("unexpected character \(describe(b[i])) inside an array, expected ',' or ']'")
        }
    }

    mutating func object(depth: Int) throws(JSONError) -> JSONValue {
        var members: [(String, JSONValue)] = []
        try self.members(depth: depth, key: JSONParser.validString) { (p: inout JSONParser, key: String) throws(JSONError) in
            members.append((key, try p.value(depth: depth + 1)))
        }
        return .object(members)
    }

    /// Reads the object at `i`: each key (`key` makes a Key of its decoded bytes), then `member`
    /// reads its value (with the parser at the value's first byte).
    mutating func members<Key>(depth: Int, key makeKey: (UnsafeBufferPointer<UInt8>) -> Key,
                               _ member: (inout JSONParser, Key) throws(JSONError) -> Void) throws(JSONError) {
        i += 1
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input inside an object, expected a key") }
            guard b[i] == UInt8(ascii: "\"") else {
                throw fail("unexpected character \(describe(b[i])) inside an object, expected a quoted key")
            }
            let key = try withString(makeKey)
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
            i += 1
            skipSpace()
            try member(&self, key)
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input inside an object, expected ',' or '}'") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return }
            throw fail("unexpected character \(describe(b[i])) inside an object, expected ',' or '}'")
        }
    }
}
