// `firstInvalidUTF8` and the JSON reader's strings (UTF8Validation.swift) against the
// standard library's UTF-8 parser on seeded random text: runs of one- to four-byte scalars (the
// leads E0 and ED, which limit their second byte, included) with ill-formed sequences dropped
// in at random places, so that the two- and three-byte loop (`skipMultibyte`) and its
// fallbacks meet every kind of error at every alignment, and at the end of the buffer.

import XCTest
@testable import Tokenizer

final class UTF8ValidationTests: XCTestCase {
    /// The offset of the first ill-formed sequence by `Unicode.UTF8.ForwardParser`, or nil.
    func reference(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var it = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let s): offset += s.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// A random scalar's UTF-8 of `length` bytes (1–4).
    func scalar(_ length: Int, _ rng: inout SeededRandom) -> [UInt8] {
        let ranges: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xFFFF, 0x10000...0x10FFFF]
        while true {
            // A third of three-byte scalars from the E0 and ED leads' rows.
            let v: UInt32 = length == 3 && Bool.random(using: &rng)
                ? (Bool.random(using: &rng) ? UInt32.random(in: 0x800...0xFFF, using: &rng) : UInt32.random(in: 0xD000...0xD7FF, using: &rng))
                : UInt32.random(in: ranges[length - 1], using: &rng)
            if let s = Unicode.Scalar(v) { return Array(String(Character(s)).utf8) }
        }
    }

    static let illFormed: [[UInt8]] = [
        [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC2], [0xDF, 0x41],
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0xE4, 0xB8], [0xE4, 0x41, 0x80], [0xE4, 0xB8, 0x41], [0xEF, 0xBF, 0xC0],
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF1, 0x80, 0x80],
        [0xF5, 0x80, 0x80, 0x80], [0xF8], [0xFF], [0xFE],
    ]

    func testAgreesWithTheStandardLibraryOnRandomText() {
        var rng = SeededRandom(seed: 0x5EED_0F_07F8)
        var invalid = 0
        for round in 0..<6000 {
            // Mostly one script per text, as real text is, so the runs are long.
            let main = Int.random(in: 1...4, using: &rng)
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...120, using: &rng) {
                let length = Int.random(in: 0..<10, using: &rng) < 7 ? main : Int.random(in: 1...4, using: &rng)
                bytes += scalar(length, &rng)
            }
            if round % 2 == 0 {
                let bad = Self.illFormed.randomElement(using: &rng) ?? [0xFF]
                bytes.insert(contentsOf: bad, at: Int.random(in: 0...bytes.count, using: &rng))
            }
            let expected = reference(bytes)
            if expected != nil { invalid += 1 }
            let got = bytes.withUnsafeBufferPointer { firstInvalidUTF8($0) }
            XCTAssertEqual(got, expected, "round \(round): \(bytes.map { String($0, radix: 16) })")
        }
        // Half the texts had a sequence inserted; each is ill-formed wherever it lands.
        XCTAssertEqual(invalid, 3000)
    }

    /// A JSON string is read when the standard library finds its bytes well-formed, to the same
    /// String, and refused otherwise.
    func testJSONStringsAgreeWithTheStandardLibrary() {
        var rng = SeededRandom(seed: 0x7501_5EED)
        for round in 0..<3000 {
            let main = Int.random(in: 2...4, using: &rng)
            var body: [UInt8] = []
            for _ in 0..<Int.random(in: 0...80, using: &rng) {
                let length = Int.random(in: 0..<10, using: &rng) < 7 ? main : Int.random(in: 1...4, using: &rng)
                // One-byte scalars as letters: no quote, backslash or control character.
                body += length == 1 ? [UInt8(ascii: "a") + UInt8.random(in: 0..<26, using: &rng)] : scalar(length, &rng)
            }
            if round % 2 == 0 {
                let bad = Self.illFormed.randomElement(using: &rng) ?? [0xFF]
                body.insert(contentsOf: bad, at: Int.random(in: 0...body.count, using: &rng))
            }
            let line: [UInt8] = Array(#"{"k": ""#.utf8) + body + Array(#""}"#.utf8)
            let parsed = try? JSON.parse(line)
            if reference(body) == nil {
                XCTAssertEqual(parsed?["k"], .string(String(decoding: body, as: UTF8.self)), "round \(round)")
            } else {
                XCTAssertNil(parsed, "round \(round): \(body.map { String($0, radix: 16) })")
            }
        }
    }

    func testEveryErrorAtEveryOffsetOfARunOfChinese() {
        let run = Array(String(repeating: "中文字", count: 6).utf8)
        for bad in Self.illFormed {
            for at in 0...run.count {
                var bytes = run
                bytes.insert(contentsOf: bad, at: at)
                let expected = reference(bytes)
                XCTAssertNotNil(expected)
                XCTAssertEqual(bytes.withUnsafeBufferPointer { firstInvalidUTF8($0) }, expected, "\(bad) at \(at)")
            }
        }
        XCTAssertNil(run.withUnsafeBufferPointer { firstInvalidUTF8($0) })
    }
}
