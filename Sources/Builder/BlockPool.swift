// Read blocks used again: the input readers (LineReader) read 4 MiB at a time, and a block that
// goes to the SHA-256 queue comes back here when the hash is done with it, instead of being
// freed and a fresh one mapped. A fresh 4 MiB block is 1,024 page faults the first time it is
// written; a build of 30 MB of JSONL read ten of them (plus the peek at the first row).

import Foundation

/// Blocks of `size` bytes, kept for reuse once given back (at most `keep` of them wait here;
/// the rest are freed). Blocks handed out as `Data` come back when the last copy of the Data is
/// gone, on whichever thread lets go of it; the pool lives until then (each Data holds it).
final class BlockPool: @unchecked Sendable {
    let size: Int
    private let keep: Int
    private var waiting: [UnsafeMutableRawPointer] = []
    private let lock = NSLock()

    init(size: Int, keep: Int = 4) {
        self.size = size
        self.keep = keep
    }

    deinit { for p in waiting { free(p) } }

    /// A block of `size` bytes: one given back earlier, or a new one; nil when memory is out.
    func take() -> UnsafeMutableRawPointer? {
        lock.lock()
        let reused = waiting.popLast()
        lock.unlock()
        return reused ?? malloc(size)
    }

    /// Takes `block` back (from `take`).
    func give(_ block: UnsafeMutableRawPointer) {
        lock.lock()
        defer { lock.unlock() }
        if waiting.count < keep { waiting.append(block) } else { free(block) }
    }

    /// The first `count` bytes of `block` as Data, without a copy; the block comes back to the
    /// pool when the Data and its copies are gone.
    func data(_ block: UnsafeMutableRawPointer, count: Int) -> Data {
        Data(bytesNoCopy: block, count: count, deallocator: .custom { p, _ in self.give(p) })
    }
}
