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
        // Invalid UTF-8 inside a string.
        do { _ = try JSON.parse([0x22, 0xC3, 0x28, 0x22]); XCTFail() } catch { XCTAssertTrue(error.message.contains("invalid UTF-8")) }
    }

    func testQuotingMatchesPython() {
        XCTAssertEqual(JSON.quoted("a\"b\\c\n\u{1}é"), #""a\"b\\c\n\u0001é""#)
    }
}
