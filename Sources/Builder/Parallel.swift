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

/// A batch of input lines, encoded in parallel.
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

    mutating func append(_ line: Int, _ b: UnsafeBufferPointer<UInt8>) {
        let start = bytes.count
        bytes.append(contentsOf: b)
        ranges.append(start..<bytes.count)
        lineNumbers.append(line)
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        lineNumbers.removeAll(keepingCapacity: true)
    }

    /// Applies `body` to every line on `workers.count` threads (worker t uses `workers[t]`).
    /// Workers take lines from a shared counter, so long rows do not stall one thread; each
    /// result goes to its line's slot, so the order never depends on scheduling.
    func map<W, T>(_ workers: [W], _ body: (W, UnsafeBufferPointer<UInt8>) -> T) -> [T?] {
        let n = ranges.count
        var results = [T?](repeating: nil, count: n)
        let threads = min(workers.count, n)
        if threads <= 1 {
            bytes.withUnsafeBufferPointer { all in
                for k in 0..<n { results[k] = body(workers[0], UnsafeBufferPointer(rebasing: all[ranges[k]])) }
            }
            return results
        }
        let next = AtomicCounter()
        results.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { all in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let all = all
                nonisolated(unsafe) let workers = workers
                nonisolated(unsafe) let body = body
                let ranges = ranges
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    let worker = workers[t]
                    while true {
                        let k = next.increment()
                        if k >= n { break }
                        out[k] = body(worker, UnsafeBufferPointer(rebasing: all[ranges[k]]))
                    }
                }
            }
        }
        return results
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
    private var value = 0
    private let lock = NSLock()

    func increment() -> Int { add(1) }

    /// Adds `n` and returns the value before.
    func add(_ n: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let v = value
        value += n
        return v
    }
}
