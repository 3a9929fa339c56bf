import Foundation
import XCTest
@testable import Tokenizer

final class JSONTests: XCTestCase {
    func testValues() throws {
        let v = try JSON.parse(#"{"a": [1, -2.5, true, null, "x\ny\u00e9\ud83d\ude00"], "a": 3}"#)
        XCTAssertEqual(v["a"]?.intValue, 3, "duplicate keys: the last wins, as Python's json")
        if case .object(let m) = v { XCTAssertEqual(m.count, 2) } else { XCTFail() }
        let first = try JSON.parse(#"[1, -2.5, true, null, "x\ny\u00e9\ud83d\ude00"]"#)
        XCTAssertEqual(first, .array([.number(1, isInteger: true), .number(-2.5, isInteger: false), .bool(true), .null, .string("x\nyé😀")]))
        // \u escapes of one-, two- and three-byte UTF-8 scalars (four-byte ones are the pair above).
        XCTAssertEqual(try JSON.parse(#""\u0041\u00df\u4e2d\u20ac""#), .string("Aß中€"))
    }

    func testErrorsCarryOffsets() {
        func offset(_ s: String) -> (Int, String)? {
            do { _ = try JSON.parse(s); return nil } catch { return (error.offset, error.message) }
        }
        XCTAssertEqual(offset(#"{"a": "unterminated"#)?.1, "unterminated string")
        XCTAssertEqual(offset(#"{"a": 1} x"#)?.0, 9)
        XCTAssertTrue(offset(#""\ud800""#)?.1.contains("lone surrogate") ?? false)
        XCTAssertTrue(offset(#""\udc00""#)?.1.contains("lone surrogate") ?? false)
        XCTAssertTrue(offset(#"[1, 2"#)?.1.contains("end of input") ?? false)
        XCTAssertTrue(offset("\"a\u{1}\"")?.1.contains("control character") ?? false)
        XCTAssertTrue(offset(#"01"#)?.1.contains("leading zero") ?? false)
        // A \u escape's digits: the error is at the first byte that is not one.
        for (text, at) in [(#""\u12G4""#, 5), (#""\uZ234""#, 3), (#""\u123/""#, 6), (#""ab\u0:00""#, 6)] {
            XCTAssertEqual(offset(text)?.0, at, text)
            XCTAssertEqual(offset(text)?.1, "invalid hex digit in \\u escape", text)
        }
        XCTAssertEqual(offset(#""\u12"#)?.1, "truncated \\u escape")
        XCTAssertEqual(try? JSON.parse(#""\u00E9\u00e9\uAbCd\u0041""#), .string("éé\u{ABCD}A"))
        // Invalid UTF-8 inside a string.
        do { _ = try JSON.parse([0x22, 0xC3, 0x28, 0x22]); XCTFail() } catch { XCTAssertTrue(error.message.contains("invalid UTF-8")) }
    }

    /// `forEachMember` reads what `parse` reads: the same members in order (string values as
    /// their decoded bytes), the same value for anything but an object, and the same error at
    /// the same offset for every malformed input, on seeded random documents and their cuts.
    func testForEachMemberAgreesWithParse() throws {
        // Strings with escapes decode in the reader's own memory, in memory given that is
        // large enough, and in memory given that is too small (the reader's own again).
        let small = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 8), large = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 12)
        defer { small.deallocate(); large.deallocate() }
        var round = 0
        func viaMembers(_ bytes: [UInt8]) -> Result<JSONValue, JSONError> {
            round += 1
            let escapes = [nil, small, large][round % 3]
            return bytes.withUnsafeBufferPointer { b in
                var members: [(String, JSONValue)] = []
                var keys: [String] = []
                do throws(JSONError) {
                    // Each key is numbered as it comes; its value follows with that number.
                    if let other = try JSON.forEachMember(b, escapes: escapes, key: { keys.append(String(decoding: $0, as: UTF8.self)); return keys.count - 1 }, { k, value in
                        switch value {
                        case .string(let s): members.append((keys[k], .string(String(decoding: s, as: UTF8.self))))
                        case .other(let v): members.append((keys[k], v))
                        }
                    }) { return .success(other) }
                    return .success(.object(members))
                } catch { return .failure(error) }
            }
        }
        func viaParse(_ bytes: [UInt8]) -> Result<JSONValue, JSONError> {
            do { return .success(try JSON.parse(bytes)) } catch { return .failure(error) }
        }
        var rng = SeededRandom(seed: 12)
        let strings = [#""plain""#, #""a\"b\\c\n\u00e9\ud83d\ude00 \u4e2d""#, #""中文 é""#, "\"\"", #""\/\b\f\r\t""#]
        let others = ["1", "-2.5e3", "true", "null", #"[1, "x", {"k": []}]"#, #"{"nested": {"a": "b"}}"#]
        var documents: [[UInt8]] = [Array(" [1] ".utf8), Array(#""top""#.utf8), Array("{}".utf8), Array(" { } ".utf8),
                                    Array(#"{"a": 1} x"#.utf8), [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]]
        let keys = ["text", "question", "answer", #"k\u00e9y"#, "text"]
        let breakers = Array(#"{}[]:,"\ x1"#.utf8)
        for _ in 0..<300 {
            let n = Int(rng.next() % 5)
            let members = (0..<n).map { _ -> String in
                let key = keys[Int(rng.next() % UInt64(keys.count))]
                let value = rng.next() % 2 == 0 ? strings[Int(rng.next() % UInt64(strings.count))]
                                                 : others[Int(rng.next() % UInt64(others.count))]
                return "\"\(key)\":\(rng.next() % 2 == 0 ? " " : "")\(value)"
            }
            let text = Array(("{" + members.joined(separator: ", ") + "}").utf8)
            documents.append(text)
            // Cut short, and with one byte replaced: mostly malformed.
            documents.append(Array(text.prefix(Int(rng.next() % UInt64(text.count + 1)))))
            var broken = text
            broken[Int(rng.next() % UInt64(text.count))] = breakers[Int(rng.next() % UInt64(breakers.count))]
            documents.append(broken)
        }
        var errors = 0
        for d in documents {
            let a = viaMembers(d), b = viaParse(d)
            switch (a, b) {
            case let (.success(x), .success(y)): XCTAssertEqual(x, y, String(decoding: d, as: UTF8.self))
            case let (.failure(x), .failure(y)): XCTAssertEqual(x, y, String(decoding: d, as: UTF8.self)); errors += 1
            default: XCTFail("\(String(decoding: d, as: UTF8.self)): \(a) against \(b)")
            }
        }
        XCTAssertGreaterThan(errors, 100)
        XCTAssertGreaterThan(documents.count - errors, 300)
    }

    /// The 16-bytes-at-a-time scan inside strings: every byte that needs a look (quote,
    /// backslash, control character, non-ASCII, invalid UTF-8) at every position of a block and
    /// of the last, overlapping one, with and without an escape before it (then the scan also
    /// copies), against Foundation's JSON reader.
    func testStringScanAtEveryOffset() throws {
        let specials: [[UInt8]] = [Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\n"#.utf8), Array(#"\u00e9"#.utf8),
                                   Array("é".utf8), Array("中".utf8), Array("😀".utf8), Array("~".utf8), Array(" ".utf8)]
        for length in 0..<40 {
            for at in 0...length {
                for special in specials {
                    for escapeFirst in [false, true] where !escapeFirst || length < 24 {
                        var body = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
                        body.insert(contentsOf: special, at: at)
                        if escapeFirst { body.insert(contentsOf: Array(#"\t"#.utf8), at: 0) }
                        let line: [UInt8] = Array(#"{"k": ""#.utf8) + body + Array(#""}"#.utf8)
                        let ours = try JSON.parse(line)
                        let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: String]
                        XCTAssertEqual(ours["k"], .string(object?["k"] ?? "?"), "\(String(decoding: line, as: UTF8.self))")
                    }
                }
                // Two bytes that need a look in one block: the scan jumps to the first (a
                // borrow from it may flag the bytes above it too).
                for first in specials.prefix(7) where length < 20 && at % 2 == 0 {
                    for second in specials.prefix(7) {
                        for gap in 0..<min(17, length - at + 1) {
                            var body = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
                            body.insert(contentsOf: second, at: at + gap)
                            body.insert(contentsOf: first, at: at)
                            let line: [UInt8] = Array(#"{"k": ""#.utf8) + body + Array(#""}"#.utf8)
                            let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: String]
                            XCTAssertEqual(try JSON.parse(line)["k"], .string(object?["k"] ?? "?"),
                                           "\(String(decoding: line, as: UTF8.self))")
                        }
                    }
                }
                // Bytes that must be refused wherever they fall.
                for bad: [UInt8] in [[0x01], [0x1F], [0xC3, 0x28], [0xFF]] where length < 24 {
                    var body = [UInt8](repeating: UInt8(ascii: "x"), count: length)
                    body.insert(contentsOf: bad, at: at)
                    XCTAssertThrowsError(try JSON.parse(Array(#"{"k": ""#.utf8) + body + Array(#""}"#.utf8)), "\(bad) at \(at) of \(length)")
                }
            }
        }
    }

    /// `\u` escapes, decoded in the string loop (`plainUnicodeEscape`) or by `unescape` (pairs,
    /// errors): the edges of each UTF-8 length, the surrogates, seeded code points, and escapes
    /// cut short or with a bad digit, alone, after text and after another escape, against
    /// Foundation's JSON reader (the same string, or both refuse).
    func testUnicodeEscapesAgreeWithFoundation() throws {
        var rng = SeededRandom(seed: 20261129)
        var escapes = [0x0, 0x1F, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF]
            .map { String(format: "\\u%04x", $0) }
        escapes += (0..<300).map { _ in String(format: "\\u%04X", Int(rng.next() % 0x10000)) }
        escapes += [#"\ud83d\ude00"#, #"\uD83D\uDE00"#, #"\ud83d"#, #"\ud83dx"#, #"\ud83d\u0041"#, #"\u12G4"#, #"\u12"#, #"\u"#, #"\uzzzz"#]
        for escape in escapes {
            for body in [escape, "ab" + escape + "cd", #"\n"# + escape, escape + escape, String(repeating: "x", count: 20) + escape] {
                let line = Array(#"{"k": ""#.utf8) + Array(body.utf8) + Array(#""}"#.utf8)
                let theirs = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: String]
                let ours = try? JSON.parse(line)
                if let theirs, let value = theirs["k"] {
                    XCTAssertEqual(ours?["k"], .string(value), body)
                } else {
                    XCTAssertNil(ours, body)
                }
            }
        }
    }

    /// The two ways of finding the bytes of a block that need a look agree (the tests run the
    /// SSE2 one on x86-64; other CPUs use the SWAR one): every byte value at every position,
    /// then seeded blocks of bytes near the class boundaries.
    func testLookBitsSWARMatchesSSE2() {
        #if arch(x86_64)
        var block = [UInt8](repeating: UInt8(ascii: "a"), count: 16)
        func check() {
            block.withUnsafeBytes { p in
                let expected = block.enumerated().reduce(UInt32(0)) { bits, e in
                    let c = e.element
                    return bits | (c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 ? 1 << UInt32(e.offset) : 0)
                }
                XCTAssertEqual(JSONParser.lookBitsSSE2(p.baseAddress!), expected, "\(block)")
                XCTAssertEqual(JSONParser.lookBitsSWAR(p.baseAddress!), expected, "\(block)")
            }
        }
        for at in 0..<16 {
            for c in 0...255 {
                block[at] = UInt8(c)
                check()
            }
            block[at] = UInt8(ascii: "a")
        }
        let near: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xFF]
        var rng = SeededRandom(seed: 20261129)
        for _ in 0..<20_000 {
            for k in 0..<16 { block[k] = near[Int(rng.next() % UInt64(near.count))] }
            check()
        }
        #endif
    }

    /// The parser makes its Strings without a second UTF-8 check (`validString`), so it must
    /// accept exactly the valid bodies: seeded random strings of letters, escapes, valid and
    /// ill-formed sequences and stray high bytes (which may pair up into valid ones). Accepted
    /// ⇔ the standard library validates the raw body; accepted strings equal Foundation's.
    func testStringsAreAcceptedExactlyWhenValidUTF8() throws {
        let pieces: [[UInt8]] = [Array("abc".utf8), Array("xy z".utf8), Array(#"\n"#.utf8), Array(#"\""#.utf8),
                                 Array(#"\\"#.utf8), Array(#"\u00e9"#.utf8), Array(#"\ud83d\ude00"#.utf8),
                                 Array(#"\u4E2d"#.utf8), Array(#"\u0041"#.utf8), Array(#"\u07fF"#.utf8), Array(#"\uFFFF"#.utf8),
                                 Array("é".utf8), Array("中".utf8), Array("😀".utf8),
                                 [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE0, 0x80, 0x80], [0xE4, 0xB8]]
        var rng = SeededRandom(seed: 20261128)
        var accepted = 0, refused = 0
        for round in 0..<4000 {
            var body: [UInt8] = []
            let parts = Int(rng.next() % (round % 10 == 0 ? 120 : 12))
            for _ in 0..<parts {
                if rng.next() % 6 == 0 {
                    body.append(UInt8(0x80 + rng.next() % 0x80))   // a stray high byte
                } else {
                    body += pieces[Int(rng.next() % UInt64(pieces.count))]
                }
            }
            let line: [UInt8] = Array(#"{"k": ""#.utf8) + body + Array(#""}"#.utf8)
            let valid = String(validating: body, as: UTF8.self) != nil
            if valid {
                let ours = try JSON.parse(line)
                let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: String]
                let expected = try XCTUnwrap(object?["k"])
                guard case .string(let s)? = ours["k"] else { return XCTFail("no string: \(body)") }
                XCTAssertEqual(Array(s.utf8), Array(expected.utf8), "\(body)")
                XCTAssertEqual(s, expected)
                accepted += 1
            } else {
                XCTAssertThrowsError(try JSON.parse(line), "\(body)")
                refused += 1
            }
        }
        XCTAssertGreaterThan(accepted, 500)
        XCTAssertGreaterThan(refused, 500)
    }

    func testQuotingMatchesPython() {
        XCTAssertEqual(JSON.quoted("a\"b\\c\n\u{1}é"), #""a\"b\\c\n\u0001é""#)
    }
}
