// ParallelEncoder cuts long documents into parts when it has more than one thread: the token
// counts must be those of the whole documents.

import XCTest
@testable import Builder
import Tokenizer

final class ParallelEncoderTests: XCTestCase {
    func testCutDocumentsCountAsWholeDocuments() {
        var rng = SeededRandom(seed: 3)
        let words = ["the", "tokenizer", "Hello", "world", "it's", "e\u{0301}t\u{00E9}", "中文", "  ", "\n ", "1234", "—", "x"]
        var text = ""
        for d in 0..<6 {
            // One long document (> 2 parts), a few short ones.
            let target = d == 2 ? 1_300_000 : 2_000
            var doc = ""
            while doc.utf8.count < target { doc += words[Int(rng.next() % UInt64(words.count))] + (rng.next() % 4 == 0 ? "" : " ") }
            text += doc + "\n\n"
        }
        let docs = Documents.fromText(Array(text.utf8), split: .blankLines)
        XCTAssertGreaterThan(docs.ranges.map(\.count).max() ?? 0, 2 * ParallelEncoder.partBytes)
        for tokenizer in [Loaded.gpt2, Loaded.pythia] {
            let (one, countsOne) = ParallelEncoder.run(docs, tokenizer: tokenizer, threads: 1)
            let (two, countsTwo) = ParallelEncoder.run(docs, tokenizer: tokenizer, threads: 2)
            XCTAssertEqual(countsOne, countsTwo)
            XCTAssertEqual(one.tokens, two.tokens)
            // And the single-thread counts are those of `encode`.
            for (k, r) in docs.ranges.enumerated() {
                XCTAssertEqual(tokenizer.encode(String(decoding: docs.bytes[r], as: UTF8.self)).count, countsOne[k])
            }
        }
    }
}
