// The regex engine against finetok's hand-written scanners (SplitPattern): each split regex the
// scanners implement, compiled by the engine, must give exactly the scanner's pieces on every
// text of the existing reference fixtures (the texts of Fixtures/*.jsonl: tricky strings, corpus
// slices and the seeded stress strings aimed at the patterns' corners).
//
// One exception: cl100k's possessive spelling (tiktoken's `pat_str`). To Oniguruma (HF
// tokenizers) its `\p{N}{1,3}+` means "1-3 digits, repeated", and its `\s++$` (with `$` also
// before a newline) takes trailing white space through newlines, while the scanner follows the
// classic spelling. The engine follows Oniguruma (regex.jsonl checks this pattern against HF), so
// the loader must not use the scanner for it (`PreTokenizerSequence.scanner(for:)`).

import Foundation
import XCTest
@testable import Tokenizer

final class KnownPatternEngineTests: XCTestCase {
    static let texts: [String] = {
        var seen = Set<String>()
        var out: [String] = []
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
        for name in names {
            for row in (try? readFixture(name)) ?? [] where seen.insert(row.text).inserted { out.append(row.text) }
        }
        return out
    }()

    func scannerPieces(_ pattern: SplitPattern, _ bytes: UnsafeBufferPointer<UInt8>) -> [[Int]] {
        var out: [[Int]] = []
        pattern.split(bytes, 0, bytes.count) { s, e in out.append([s, e]) }
        return out
    }

    func enginePieces(_ program: RegexProgram, _ bytes: UnsafeBufferPointer<UInt8>, _ matcher: RegexMatcher) -> [[Int]] {
        var out: [[Int]] = []
        matcher.forEachMatch(program, in: bytes) { s, e in out.append([s, e]) }
        return out
    }

    func testEngineEqualsScanners() throws {
        let texts = KnownPatternEngineTests.texts
        XCTAssertGreaterThan(texts.count, 900)
        let matcher = RegexMatcher()
        var compared = 0
        for (regex, pattern) in SplitPattern.knownRegexes.sorted(by: { $0.key < $1.key }) {
            let program = try RegexProgram(pattern: regex)
            let possessive = PreTokenizerSequence.scanner(for: regex) == nil
            var differing = 0
            for text in texts {
                let bytes = Array(text.utf8)
                bytes.withUnsafeBufferPointer { buf in
                    let want = scannerPieces(pattern, buf)
                    let got = enginePieces(program, buf, matcher)
                    compared += 1
                    if got != want {
                        differing += 1
                        if !possessive {
                            XCTFail("\(pattern) \(JSON.quoted(regex)) on \(JSON.quoted(String(text.prefix(200)))):\n want \(want.prefix(40))\n got  \(got.prefix(40))")
                        }
                    }
                }
            }
            if possessive { XCTAssertGreaterThan(differing, 0) }
        }
        print("engine = scanners on \(compared) (pattern, text) pairs (\(texts.count) distinct texts, \(SplitPattern.knownRegexes.count) regexes)")
    }

    /// Oniguruma's reading of `\p{N}{1,3}+`, which HF uses (the regex fixture holds HF's pieces).
    func testPossessiveIntervalIsRepetitionInOniguruma() throws {
        let program = try RegexProgram(pattern: #"\p{N}{1,3}+"#)
        let bytes = Array("12345678".utf8)
        let got = bytes.withUnsafeBufferPointer { enginePieces(program, $0, RegexMatcher()) }
        XCTAssertEqual(got, [[0, 8]])
        XCTAssertNil(PreTokenizerSequence.scanner(for: "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s"))
        // Exactly one known regex is excluded; `\p{L}++` is not an interval.
        XCTAssertEqual(SplitPattern.knownRegexes.keys.filter { PreTokenizerSequence.scanner(for: $0) == nil }.count, 1)
        XCTAssertTrue(PreTokenizerSequence.hasIntervalThenPlus("a{1,3}+"))
        XCTAssertTrue(PreTokenizerSequence.hasIntervalThenPlus("a{2}+"))
        XCTAssertFalse(PreTokenizerSequence.hasIntervalThenPlus("\\p{L}++"))
        XCTAssertFalse(PreTokenizerSequence.hasIntervalThenPlus("a\\{1}+"))
    }
}
