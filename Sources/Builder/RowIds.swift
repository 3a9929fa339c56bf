// Where an encoded row's ids live between the worker that encodes it and the thread that
// hands its batch back: in a block of ids the worker fills row after row (`IdBlock`), not in an
// array of the row's own.
//
// Why: an array a row cost an allocation and a copy on the worker and a release and a free on
// the writing thread, where the free goes back to the worker's malloc arena. Here a row is one
// copy into the worker's current block and a reference to it: ~420 instructions a short row
// fewer on the worker (of ~11,000, ~7,800 of them encoding) and ~240 fewer on the writing
// thread (callgrind, 146 k rows of en, gpt2, a megatron build).
//
// Safety: a block's ids are written once, by the worker that owns it, before the row is handed
// over (the pipeline's lock orders the write before any read), and never moved: a block has a
// fixed capacity, and a row that does not fit starts a new one. A row holds its block alive.

/// A fixed-size block of ids: the memory only (`IdBlocks` fills it).
final class IdBlock: @unchecked Sendable {
    /// Ids a block holds; a longer row gets a block of its own size.
    static let standardCapacity = 1 << 16

    let base: UnsafeMutablePointer<UInt32>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: max(1, capacity))
    }

    deinit { base.deallocate() }
}

/// An encoded row's ids: a range of an `IdBlock`.
struct RowIds {
    private let block: IdBlock
    private let start: Int
    let count: Int

    fileprivate init(block: IdBlock, start: Int, count: Int) {
        self.block = block
        self.start = start
        self.count = count
    }

    /// A row's ids in a block of their own (rows made outside an `ExampleEncoder`, as in tests).
    init(_ ids: [UInt32]) {
        let block = IdBlock(capacity: ids.count)
        ids.withUnsafeBufferPointer { if let from = $0.baseAddress { block.base.initialize(from: from, count: $0.count) } }
        self.init(block: block, start: 0, count: ids.count)
    }

    /// The ids, valid while this value (which holds its block) lives.
    var buffer: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: block.base + start, count: count) }

    var array: [UInt32] { Array(buffer) }
}

/// One thread's blocks: rows are copied into the current block one after another, and a row
/// that does not fit starts a new one. (A class held by a `let`, its block's pointer and fill
/// level copied into fields of its own: a struct in the encoder's stored property was checked
/// for exclusive access at run time on each row, and a call on the block retained it, ~170
/// instructions a row together.)
final class IdBlocks {
    private var current: IdBlock
    private var base: UnsafeMutablePointer<UInt32>
    private var used = 0, capacity: Int

    init() {
        current = IdBlock(capacity: IdBlock.standardCapacity)
        base = current.base
        capacity = current.capacity
    }

    /// Copies the row `head` + `tail` into the current block, or into a new one when it does
    /// not fit (a row longer than a quarter of a block gets one of its own, and the current
    /// block stays for the rows after it).
    func store(_ head: UnsafeBufferPointer<UInt32>, _ tail: UnsafeBufferPointer<UInt32> = .init(start: nil, count: 0)) -> RowIds {
        let n = head.count + tail.count
        if n > capacity - used {
            let block = IdBlock(capacity: max(n, IdBlock.standardCapacity))
            if n > IdBlock.standardCapacity / 4 {
                Self.copy(head, tail, to: block.base)
                return RowIds(block: block, start: 0, count: n)
            }
            (current, base, used, capacity) = (block, block.base, 0, block.capacity)
        }
        Self.copy(head, tail, to: base + used)
        used += n
        return RowIds(block: current, start: used - n, count: n)
    }

    private static func copy(_ head: UnsafeBufferPointer<UInt32>, _ tail: UnsafeBufferPointer<UInt32>, to p: UnsafeMutablePointer<UInt32>) {
        if let from = head.baseAddress { p.initialize(from: from, count: head.count) }
        if let from = tail.baseAddress { (p + head.count).initialize(from: from, count: tail.count) }
    }
}
