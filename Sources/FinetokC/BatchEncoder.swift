// Encoding a batch of texts into one flat id buffer, on several threads, in input order.
//
// The texts are cut into chunks of consecutive texts, about `chunkBytes` of text each (at least
// one text). Workers take the next chunk from a shared counter — so a long text does not stall
// the others — and encode it with their own `EncodingContext` into the chunk's own id array.
// Then the chunks' ids are copied, in order, into one buffer and each text's end is written to
// the offsets. Cost: the encoding itself (BPEMerge.swift) plus one copy of the ids (4 bytes a
// token) and O(texts) for the offsets; the ids are held twice for a moment at the end. The
// result does not depend on the number of threads or on scheduling.

import Dispatch
import Foundation
import Tokenizer

struct BatchEncoder {
    let tokenizer: Tokenizer
    /// Ids put before / after every text (`add_special_tokens`), usually none.
    let prefix: [UInt32]
    let suffix: [UInt32]

    /// The caller's texts: text k is bytes[offsets[k] ..< offsets[k + 1]].
    struct Texts {
        let bytes: UnsafePointer<UInt8>?
        let offsets: UnsafePointer<Int64>
        let count: Int

        func text(_ k: Int) -> UnsafeBufferPointer<UInt8> {
            guard let bytes else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: bytes + Int(offsets[k]), count: Int(offsets[k + 1] - offsets[k]))
        }

        func byteCount(_ texts: Range<Int>) -> Int { Int(offsets[texts.upperBound] - offsets[texts.lowerBound]) }
    }

    /// The flat result, allocated for the caller (freed with finetok_buffer_free).
    struct Result {
        let ids: UnsafeMutablePointer<UInt32>
        let idCount: Int
        /// `count + 1` entries: text k's ids are ids[offsets[k] ..< offsets[k + 1]].
        let offsets: UnsafeMutablePointer<Int64>
    }

    /// One chunk's ids and, per text, where its ids end in them.
    struct Part {
        var ids: [UInt32] = []
        var ends: [Int] = []
    }

    /// Chunks small enough for every worker to get several (balance), large enough that taking
    /// one costs nothing next to encoding it (~100 MB/s: a 16 kB chunk is ~0.15 ms).
    static func chunkBytes(total: Int, workers: Int) -> Int {
        workers <= 1 ? Int.max : min(1 << 20, max(16 << 10, total / (workers * 16)))
    }

    /// Consecutive texts of about `target` bytes each; every text in exactly one chunk.
    static func chunks(_ texts: Texts, target: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        while start < texts.count {
            var end = start + 1
            while end < texts.count && texts.byteCount(start..<end) < target { end += 1 }
            out.append(start..<end)
            start = end
        }
        return out
    }

    func encodeChunk(_ texts: Texts, _ range: Range<Int>, _ context: EncodingContext) -> Part {
        var part = Part()
        part.ids.reserveCapacity(texts.byteCount(range) / 3 + range.count * (prefix.count + suffix.count))
        part.ends.reserveCapacity(range.count)
        for k in range {
            part.ids.append(contentsOf: prefix)
            tokenizer.encode(utf8: texts.text(k), into: &part.ids, context: context)
            part.ids.append(contentsOf: suffix)
            part.ends.append(part.ids.count)
        }
        return part
    }

    /// The chunks `threads` workers will share (one chunk for one thread).
    static func plan(_ texts: Texts, threads: Int) -> [Range<Int>] {
        let total = texts.count == 0 ? 0 : texts.byteCount(0..<texts.count)
        return chunks(texts, target: chunkBytes(total: total, workers: threads))
    }

    /// Encodes every chunk, `contexts.count` threads at once (thread t uses `contexts[t]`).
    func encode(_ texts: Texts, chunks: [Range<Int>], contexts: [EncodingContext]) -> Result {
        precondition(!contexts.isEmpty, "encode needs at least one context")
        var parts = [Part](repeating: Part(), count: chunks.count)
        let workers = min(contexts.count, chunks.count)
        if workers <= 1 {
            for (c, range) in chunks.enumerated() { parts[c] = encodeChunk(texts, range, contexts[0]) }
        } else {
            let next = ChunkCounter()
            parts.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let texts = texts
                nonisolated(unsafe) let contexts = contexts
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    while true {
                        let c = next.take()
                        if c >= chunks.count { break }
                        out[c] = encodeChunk(texts, chunks[c], contexts[w])
                    }
                }
            }
        }
        return gather(parts, count: texts.count)
    }

    /// The parts' ids, in order, in one buffer, and every text's offsets.
    func gather(_ parts: [Part], count: Int) -> Result {
        let idCount = parts.reduce(0) { $0 + $1.ids.count }
        let ids = UnsafeMutablePointer<UInt32>.allocate(capacity: max(idCount, 1))
        let offsets = UnsafeMutablePointer<Int64>.allocate(capacity: count + 1)
        offsets[0] = 0
        var at = 0, k = 0
        for part in parts {
            part.ids.withUnsafeBufferPointer { p in
                if let base = p.baseAddress { (ids + at).update(from: base, count: p.count) }
            }
            for end in part.ends {
                k += 1
                offsets[k] = Int64(at + end)
            }
            at += part.ids.count
        }
        return Result(ids: ids, idCount: idCount, offsets: offsets)
    }
}

/// The next chunk to encode, shared by the workers.
final class ChunkCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    /// Returns the current value and advances it by one.
    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}
