// `finetok lengths`: statistics against independently computed values, the JSON document, the SVG.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Builder
import Tokenizer

final class LengthsTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = temporaryFolder("finetok-lengths") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// numpy.percentile (default, linear) on small inputs, values computed with numpy 2.4.
    func testPercentilesMatchNumpy() {
        var a = [1, 2, 3, 4, 10]
        let s = LengthSummary(&a)
        XCTAssertEqual(s.p50, 3.0)
        XCTAssertEqual(s.p90, 7.6000000000000005)
        XCTAssertEqual(s.p95, 8.799999999999999)
        XCTAssertEqual(s.p99, 9.76)
        var b = [5, 1, 9, 3, 7, 2, 8]
        let t = LengthSummary(&b)
        XCTAssertEqual([t.p50, t.p90, t.p95, t.p99], [5.0, 8.4, 8.7, 8.94])
        XCTAssertEqual(t.mean, 5.0)
        XCTAssertEqual(t.min, 1)
        XCTAssertEqual(t.max, 9)
        XCTAssertEqual(Lengths.covering([1, 2, 3, 4, 10], 0.95), 10)
        XCTAssertEqual(Lengths.covering(Array(1...100), 0.95), 95)
        XCTAssertEqual(Lengths.covering(Array(1...100), 0.99), 99)
    }

    /// The counting sort of lengths against `sort()`: small and large values, repeats, a
    /// negative value and a maximum far above the count (which take `sort()`), empty input.
    func testSortCountsMatchesSort() {
        var rng = SeededRandom(seed: 3)
        var cases: [[Int]] = [[], [0], [5, 5, 5], [3, -1, 2], [1 << 40, 2, 1], Array((0..<1000).reversed())]
        for bound in [2, 50, 70_000, 1 << 20] {
            cases.append((0..<3000).map { _ in Int(rng.next() % UInt64(bound)) })
        }
        for (k, values) in cases.enumerated() {
            var counted = values
            sortCounts(&counted)
            XCTAssertEqual(counted, values.sorted(), "case \(k)")
        }
    }

    func testHistogramEdges() {
        XCTAssertEqual(Histogram.edges(maxValue: 490), Array(stride(from: 0, through: 500, by: 20)))
        XCTAssertEqual(Histogram.edges(maxValue: 7), Array(0...8))
        let h = Histogram(edges: [0, 10, 20], values: [0, 9, 10, 19])
        XCTAssertEqual(h.counts, [2, 2])
    }

    /// Bytes of the rendered examples (prompt + completion), as `totalBytes` counts them.
    var renderedBytes = 0

    func makeInput() -> (path: String, totals: [Int], prompts: [Int]) {
        let rows = [("What?", "This."), ("A much longer question about tokenizers and lengths?", "Yes."),
                    ("Short", "A rather long answer that goes on and on for quite a few tokens, to be the longest.")]
        var text = ""
        var totals: [Int] = [], prompts: [Int] = []
        for (q, a) in rows {
            text += #"{"question": "\#(q)", "answer": "\#(a)"}"# + "\n"
            renderedBytes += "### Question:\n\(q)\n\n### Answer:\n\(a)".utf8.count
            let p = Loaded.gpt2.encode("### Question:\n\(q)\n\n### Answer:\n").count
            let c = Loaded.gpt2.encode(a).count + 1
            prompts.append(p)
            totals.append(p + c)
        }
        return (writeFile(dir, "rows.jsonl", text + "\n"), totals, prompts)
    }

    func testReportAgainstDirectEncoding() throws {
        let (path, totals, prompts) = makeInput()
        var o = LengthsOptions()
        o.maxLength = totals.sorted()[1]
        o.top = 2
        let r = try Lengths.run(inputs: [path], tokenizer: Loaded.gpt2, options: o)
        XCTAssertEqual(r.examples, 3)
        XCTAssertEqual(r.blankLines, 1)
        XCTAssertEqual(r.templateName, "qa")
        XCTAssertEqual(r.total.max, totals.max())
        XCTAssertEqual(r.total.min, totals.min())
        XCTAssertEqual(r.total.total, totals.reduce(0, +))
        XCTAssertEqual(r.prompt.max, prompts.max())
        XCTAssertEqual(r.overMaxLength, 1)
        XCTAssertEqual(r.truncatedTokens, totals.max()! - o.maxLength!)
        XCTAssertEqual(r.suggested.max, totals.max())
        XCTAssertEqual(r.longest.map(\.line), [3, totals[0] > totals[1] ? 1 : 2])
        XCTAssertEqual(r.histogram.counts.reduce(0, +), 3)
        XCTAssertEqual(r.totalBytes, renderedBytes)
    }

    func testJSONSchema() throws {
        let (path, _, _) = makeInput()
        var o = LengthsOptions()
        o.maxLength = 30
        let r = try Lengths.run(inputs: [path], tokenizer: Loaded.gpt2, options: o)
        let doc = try JSON.parse(r.json())
        for key in ["examples", "prompt", "completion", "total", "max_length", "over_max_length", "truncated_tokens",
                    "suggested_max_length", "histogram", "longest"] {
            XCTAssertNotNil(doc[key], key)
        }
        for part in ["prompt", "completion", "total"] {
            for stat in ["min", "max", "mean", "p50", "p90", "p95", "p99"] { XCTAssertNotNil(doc[part]?[stat], "\(part).\(stat)") }
        }
        for key in ["p95", "p99", "max"] { XCTAssertNotNil(doc["suggested_max_length"]?[key]) }
        XCTAssertEqual(doc["histogram"]?["edges"]?.arrayValue?.count, (doc["histogram"]?["counts"]?.arrayValue?.count ?? 0) + 1)
        XCTAssertEqual(doc["longest"]?.arrayValue?.first?["line"]?.intValue, 3)
        XCTAssertEqual(doc["max_length"]?.intValue, 30)
    }

    func testSVGIsWellFormedXML() throws {
        let (path, _, _) = makeInput()
        var o = LengthsOptions()
        o.maxLength = 40
        let r = try Lengths.run(inputs: [path], tokenizer: Loaded.gpt2, options: o)
        let svg = r.svg(title: "Token lengths — rows.jsonl & <friends>")
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertTrue(svg.contains("max_length 40"))
        XCTAssertTrue(svg.contains("&amp; &lt;friends&gt;"))
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    }

    func testPlainTextDocuments() throws {
        let p = writeFile(dir, "corpus.txt", "First document.\n\nSecond one,\nwith two lines.\n\n\n\nThird.")
        var o = LengthsOptions()
        o.appendEOS = false
        let r = try Lengths.run(inputs: [p], tokenizer: Loaded.gpt2, options: o)
        XCTAssertTrue(r.plainText)
        // Python's split("\n\n") without empty pieces: 3 documents.
        XCTAssertEqual(r.examples, 3)
        XCTAssertEqual(r.totalTokens, Loaded.gpt2.encode("First document.").count + Loaded.gpt2.encode("Second one,\nwith two lines.").count
            + Loaded.gpt2.encode("Third.").count)
        XCTAssertEqual(r.longest.first?.line, 3)
    }
}
