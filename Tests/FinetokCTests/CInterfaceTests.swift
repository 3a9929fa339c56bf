// The C interface through its C functions, as ctypes calls them: the flat batch equals
// `Tokenizer.encode` text by text for any thread count, decode round-trips, errors are messages.

import Foundation
import XCTest
@testable import FinetokC
import Tokenizer

final class CInterfaceTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let gpt2 = root.appendingPathComponent("vocab/gpt2").path
    static let phi3 = root.appendingPathComponent("vocab/phi3").path

    func load(_ path: String, allowSpecial: Bool = false) throws -> UnsafeMutableRawPointer {
        var message: UnsafeMutablePointer<CChar>?
        guard let h = finetokTokenizerLoad(path, nil, nil, allowSpecial ? 1 : 0, &message) else {
            defer { finetokBufferFree(message) }
            throw XCTSkip("cannot load \(path): \(message.map { String(cString: $0) } ?? "?")")
        }
        return h
    }

    /// Seeded texts of every size: empty, ASCII, multi-byte, invalid UTF-8, special-token strings.
    func texts(_ n: Int, seed: UInt64) -> [[UInt8]] {
        var g = seed
        func next() -> UInt64 { g = g &* 6364136223846793005 &+ 1442695040888963407; return g >> 33 }
        let pieces: [[UInt8]] = ["Hello", " world", "\n\n", "  ", "你好", "é", "🙂", "<|endoftext|>", "123", "'s", "\t"].map { Array($0.utf8) }
            + [[0xFF], [0xC3], [0xED, 0xA0, 0x80]]
        return (0..<n).map { _ in
            let count = Int(next() % 40) * (next() % 10 == 0 ? 50 : 1)
            return (0..<count).flatMap { _ in pieces[Int(next() % UInt64(pieces.count))] }
        }
    }

    func encodeBatch(_ h: UnsafeMutableRawPointer, _ texts: [[UInt8]], threads: Int, addSpecial: Bool = false) -> [[UInt32]] {
        let flat = texts.flatMap { $0 }
        var offsets: [Int64] = [0]
        for t in texts { offsets.append(offsets.last! + Int64(t.count)) }
        var ids: UnsafeMutablePointer<UInt32>?
        var idCount: Int64 = 0
        var idOffsets: UnsafeMutablePointer<Int64>?
        let status = flat.withUnsafeBufferPointer { b in
            finetokEncodeBatch(h, b.baseAddress, offsets, Int64(texts.count), Int64(threads), addSpecial ? 1 : 0, &ids, &idCount, &idOffsets)
        }
        XCTAssertEqual(status, 0)
        guard let ids, let idOffsets else { XCTFail("no result"); return [] }
        defer { finetokBufferFree(ids); finetokBufferFree(idOffsets) }
        XCTAssertEqual(idOffsets[texts.count], idCount)
        return (0..<texts.count).map { k in Array(UnsafeBufferPointer(start: ids + Int(idOffsets[k]), count: Int(idOffsets[k + 1] - idOffsets[k]))) }
    }

    func testBatchEqualsEncodeForAnyThreadCount() throws {
        let h = try load(Self.gpt2)
        defer { finetokTokenizerFree(h) }
        let tokenizer = TokenizerHandle.from(h).tokenizer
        // Enough text for many chunks (chunks are ≥ 16 kB when several threads share the work).
        let texts = texts(1000, seed: 7)
        let want = texts.map { tokenizer.encode(String(decoding: $0, as: UTF8.self)) }
        for threads in [1, 2, 3, 8] {
            XCTAssertEqual(encodeBatch(h, texts, threads: threads), want, "threads \(threads)")
        }
        XCTAssertEqual(encodeBatch(h, [], threads: 2), [])
        XCTAssertEqual(encodeBatch(h, [[], []], threads: 2), [[], []])
    }

    func testChunksCoverEveryTextOnceInOrder() {
        let texts = texts(1000, seed: 3)
        var offsets: [Int64] = [0]
        for t in texts { offsets.append(offsets.last! + Int64(t.count)) }
        offsets.withUnsafeBufferPointer { o in
            let batch = BatchEncoder.Texts(bytes: nil, offsets: o.baseAddress!, count: texts.count)
            XCTAssertEqual(BatchEncoder.plan(batch, threads: 1), [0..<texts.count])
            let chunks = BatchEncoder.plan(batch, threads: 2)
            XCTAssertGreaterThan(chunks.count, 8)
            XCTAssertEqual(chunks.first?.lowerBound, 0)
            XCTAssertEqual(chunks.last?.upperBound, texts.count)
            for (a, b) in zip(chunks, chunks.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            XCTAssertTrue(chunks.allSatisfy { !$0.isEmpty })
        }
    }

    func testAddSpecialTokensPutsBOS() throws {
        let h = try load(Self.phi3)
        defer { finetokTokenizerFree(h) }
        let tokenizer = TokenizerHandle.from(h).tokenizer
        let text = Array("Hello world".utf8)
        XCTAssertEqual(encodeBatch(h, [text], threads: 1, addSpecial: true), [tokenizer.encode("Hello world", addSpecialTokens: true)])
        XCTAssertEqual(encodeBatch(h, [text], threads: 1, addSpecial: true).first?.first, 1)
    }

    func testDecodeAndErrors() throws {
        let h = try load(Self.gpt2)
        defer { finetokTokenizerFree(h) }
        var text: UnsafeMutablePointer<CChar>?
        var length: Int64 = 0
        var message: UnsafeMutablePointer<CChar>?
        XCTAssertEqual(finetokDecode(h, [15496, 995], 2, 0, &text, &length, &message), 0)
        XCTAssertEqual(text.map { String(cString: $0) }, "Hello world")
        XCTAssertEqual(length, 11)
        finetokBufferFree(text)
        XCTAssertEqual(finetokDecode(h, [99_999_999], 1, 0, &text, &length, &message), -1)
        XCTAssertTrue(message.map { String(cString: $0) }?.contains("unknown token id 99999999") ?? false)
        finetokBufferFree(message)

        message = nil
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-no-such-\(getpid())/tokenizer.json").path
        XCTAssertNil(finetokTokenizerLoad(missing, nil, nil, 0, &message))
        XCTAssertEqual(message.map { String(cString: $0) }, "\(missing): cannot read: no such file or folder")
        finetokBufferFree(message)
        message = nil
        XCTAssertNil(finetokTokenizerLoad(Self.gpt2, nil, "perl", 0, &message))
        XCTAssertTrue(message.map { String(cString: $0) }?.hasPrefix("pattern must be one of") ?? false)
        finetokBufferFree(message)
    }

    func testInfoIsJSON() throws {
        let h = try load(Self.phi3)
        defer { finetokTokenizerFree(h) }
        guard let p = finetokTokenizerInfo(h) else { return XCTFail("no info") }
        defer { finetokBufferFree(p) }
        let info = try JSON.parse(String(cString: p))
        XCTAssertEqual(info["vocab_size"]?.intValue, 32011)
        XCTAssertEqual(info["eos_token_id"]?.intValue, 32000)
        XCTAssertEqual(info["prefix"]?.arrayValue?.compactMap(\.intValue), [1])
        let added = info["added_tokens"]?.arrayValue ?? []
        XCTAssertTrue(added.contains { $0["content"]?.stringValue == "<|assistant|>" && $0["id"]?.intValue == 32001 })
    }
}
