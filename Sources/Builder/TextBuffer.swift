// A growable byte buffer in raw memory, reused from row to row: the JSONL writers' rows, a
// row's fields and its rendered text, an output file's buffer. An array in its place costs ~80 instructions to empty
// (`removeAll(keepingCapacity:)`) and ~120 an `append(contentsOf:)`, several a short row.

/// A growable byte buffer, reused: emptying it keeps the memory.
final class TextBuffer: @unchecked Sendable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 1 << 16) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }
    deinit { base.deallocate() }

    /// Room for `n` bytes at the start (what was there is dropped; `setCount` says how many
    /// were written).
    func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if n > capacity {
            base.deallocate()
            capacity = max(n, 2 * capacity)
            base = .allocate(capacity: capacity)
        }
        count = 0
        return base
    }

    /// Sets the count of bytes written at `reserve`'s pointer (at most the `n` reserved).
    func setCount(_ n: Int) {
        precondition(n >= 0 && n <= capacity, "count \(n) of a buffer of \(capacity)")
        count = n
    }

    func removeAll() { count = 0 }

    /// Appends `raw` (which must not be this buffer's own bytes).
    func append(_ raw: UnsafeRawBufferPointer) {
        guard let from = raw.baseAddress else { return }
        if count + raw.count > capacity {
            capacity = max(count + raw.count, 2 * capacity)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown
        }
        UnsafeMutableRawPointer(base + count).copyMemory(from: from, byteCount: raw.count)
        count += raw.count
    }

    func append(_ bytes: UnsafeBufferPointer<UInt8>) { append(UnsafeRawBufferPointer(bytes)) }

    func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// The bytes written (valid until the buffer next changes).
    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(buffer) }
}
