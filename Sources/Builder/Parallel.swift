// Running the row stage on all cores with a deterministic result order, and hashing beside it.

import Dispatch
import Foundation

/// SHA-256 of a stream of blocks, computed on a serial background queue.
final class BackgroundHasher: @unchecked Sendable {
    private var sha = SHA256()
    private let queue = DispatchQueue(label: "finetok.sha256")

    func update(_ block: Data) {
        queue.async { self.sha.update(block) }
    }

    /// Waits for the queued blocks and returns the hex digest.
    func finish() -> String {
        queue.sync { sha.hexDigest() }
    }
}

/// A batch of input lines, encoded in parallel (BatchPipeline).
struct LineBatch {
    /// A batch ends at this many bytes (or at `--batch-size` lines, whichever comes first).
    /// Small enough that long documents still pipeline: with 64 MB, a 32 MB pre-training file
    /// was one batch, read, then encoded, then written, one after the other (en, 105 documents
    /// of 76 KB on average: build at 47 MB/s against 100 MB/s for the encoding alone).
    static let byteLimit = 4 << 20

    var bytes: [UInt8] = []
    var ranges: [Range<Int>] = []
    var lineNumbers: [Int] = []
    var count: Int { ranges.count }
    var byteCount: Int { bytes.count + ranges.count }

    /// Adds a line; returns whether the batch is now full (`lines` lines or `byteLimit` bytes).
    /// One call a line: the build's reader keeps the batch in a captured variable, and each
    /// access to it is checked for exclusive access at run time.
    mutating func append(_ line: Int, _ b: UnsafeBufferPointer<UInt8>, fullAt lines: Int) -> Bool {
        let start = bytes.count
        bytes.append(contentsOf: b)
        ranges.append(start..<bytes.count)
        lineNumbers.append(line)
        return count >= lines || byteCount >= LineBatch.byteLimit
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        lineNumbers.removeAll(keepingCapacity: true)
    }
}

/// `body(0..<count)` on `threads` threads, results in index order.
func parallelMap<T>(_ count: Int, threads: Int, _ body: (Int) -> T) -> [T] {
    var results = [T?](repeating: nil, count: count)
    let workers = min(threads, count)
    if workers <= 1 {
        for k in 0..<count { results[k] = body(k) }
    } else {
        let next = AtomicCounter()
        results.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let k = next.add(64)
                    if k >= count { break }
                    for j in k..<min(k + 64, count) { out[j] = body(j) }
                }
            }
        }
    }
    return results.compactMap { $0 }
}

/// A counter shared by worker threads.
final class AtomicCounter: @unchecked Sendable {
    private var count = 0
    private let lock = NSLock()

    func increment() -> Int { add(1) }

    /// Adds `n` and returns the value before.
    @discardableResult
    func add(_ n: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let v = count
        count += n
        return v
    }

    var value: Int { add(0) }
}
