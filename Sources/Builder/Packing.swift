// Packing: the examples of one split → rows of at most N tokens, exactly as TRL's
// `trl.data_utils.pack_dataset(dataset, N, strategy)`: the same rows, in the same order, with
// the same `seq_lengths`.
//
// TRL runs its packer through `datasets.Dataset.map(batched=True)`, whose default batch is 1,000
// examples: each run of 1,000 consecutive examples of the split is packed on its own, and so here.
//
//   bfd      best-fit decreasing. Examples are cut to their first N tokens and empty ones are
//            left out; they are taken longest first (a stable sort: equal lengths keep their
//            order) and each goes into the open row with the smallest free space that still fits
//            it — among rows with that much space, the one that reached it first — or else into a
//            new row. A segment tree over the free-space values 1...N finds that space in
//            O(log N); a first-in-first-out queue per value gives the row. Rows come out in the
//            order they were opened, examples within a row in the order they were placed.
//   wrapped  the batch's tokens concatenated and cut every N tokens ("group_texts"): examples
//            are split across rows and the batch's last row may be shorter.
//
// Cost per batch of n examples: O(n log n) to sort, O(n log N) to place; memory O(n + N).

/// `--packing`.
public enum PackingStrategy: String, Sendable, CaseIterable {
    case bfd
    case wrapped
}

/// A piece of one example in a packed row: the example (its position in the split) and which of
/// its tokens.
struct PackedSegment: Equatable, Sendable {
    var example: Int
    var tokens: Range<Int>
}

/// TRL's packer for rows of `capacity` tokens.
struct Packer: Sendable {
    let capacity: Int
    let strategy: PackingStrategy

    /// `datasets.map`'s default `batch_size`, which `pack_dataset` uses.
    static let batchSize = 1000

    init(capacity: Int, strategy: PackingStrategy) {
        precondition(capacity > 0, "the packed length must be positive")
        self.capacity = capacity
        self.strategy = strategy
    }

    /// The batches of a split of `count` examples: `first..<first + batchSize`.
    static func batches(_ count: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: batchSize).map { $0..<min($0 + batchSize, count) }
    }

    /// The rows of one batch; `lengths[k]` is the length of example `examples.lowerBound + k`.
    func pack(_ examples: Range<Int>, lengths: [Int]) -> [[PackedSegment]] {
        precondition(lengths.count == examples.count)
        switch strategy {
        case .bfd: return bestFitDecreasing(examples, lengths: lengths)
        case .wrapped: return wrapped(examples, lengths: lengths)
        }
    }

    private func bestFitDecreasing(_ examples: Range<Int>, lengths: [Int]) -> [[PackedSegment]] {
        // Truncated lengths of the non-empty examples, longest first, ties in example order.
        var order = lengths.indices.filter { lengths[$0] > 0 }
        let cut = lengths.map { min($0, capacity) }
        order.sort { cut[$0] != cut[$1] ? cut[$0] > cut[$1] : $0 < $1 }

        var rows: [[PackedSegment]] = []
        var free: [Int] = []                       // free space per row
        var queues: [Int: (rows: [Int], head: Int)] = [:]   // free space → rows with it, oldest first
        var tree = FreeSpaceTree(capacity)
        tree.add(capacity)                        // a new, empty row always fits
        for k in order {
            let length = cut[k]
            let space = tree.smallest(atLeast: length)
            let row: Int
            if space < capacity {
                var q = queues[space] ?? ([], 0)
                row = q.rows[q.head]
                q.head += 1
                if q.head == q.rows.count {
                    queues[space] = nil
                    tree.remove(space)
                } else {
                    queues[space] = q
                }
            } else {
                row = rows.count
                rows.append([])
                free.append(capacity)
            }
            rows[row].append(PackedSegment(example: examples.lowerBound + k, tokens: 0..<length))
            free[row] = space - length
            queues[free[row], default: ([], 0)].rows.append(row)
            if free[row] > 0 { tree.add(free[row]) }
        }
        return rows
    }

    private func wrapped(_ examples: Range<Int>, lengths: [Int]) -> [[PackedSegment]] {
        var rows: [[PackedSegment]] = []
        var row: [PackedSegment] = []
        var used = 0
        for (k, length) in lengths.enumerated() {
            var at = 0
            while at < length {
                let take = min(length - at, capacity - used)
                row.append(PackedSegment(example: examples.lowerBound + k, tokens: at..<(at + take)))
                at += take
                used += take
                if used == capacity {
                    rows.append(row)
                    row = []
                    used = 0
                }
            }
        }
        if !row.isEmpty { rows.append(row) }
        return rows
    }
}

/// TRL's `_SegmentTree`: which free-space values 1...capacity are present, and the smallest
/// present value at least v, in O(log capacity).
struct FreeSpaceTree {
    private var tree: [Int32]
    private let leaves: Int

    init(_ capacity: Int) {
        var n = 1
        while n < capacity { n <<= 1 }
        leaves = n
        tree = [Int32](repeating: 0, count: 2 * n)
    }

    mutating func add(_ value: Int) { set(value, Int32(value)) }

    mutating func remove(_ value: Int) { set(value, 0) }

    private mutating func set(_ value: Int, _ stored: Int32) {
        var i = leaves + value - 1
        tree[i] = stored
        while i > 1 {
            i >>= 1
            tree[i] = max(tree[2 * i], tree[2 * i + 1])
        }
    }

    /// The smallest present value ≥ `value` (the leftmost leaf holding at least it).
    func smallest(atLeast value: Int) -> Int {
        var i = 1
        while i < leaves {
            i = tree[2 * i] >= value ? 2 * i : 2 * i + 1
        }
        return Int(tree[i])
    }
}

/// One packed row's arrays: the examples' ids and labels one after the other. With `bfd` each
/// example is its own sequence: positions restart at 0 and `seq_lengths` lists the examples (what
/// padding-free / FlashAttention varlen training takes, as TRL's collator builds it from
/// `seq_lengths`). A `wrapped` row is one sequence, as TRL's collator treats a row without
/// `seq_lengths`: positions 0..<length and `seq_lengths` = [length].
struct PackedRow {
    var arrays = TrainingArrays()
    var positionIds: [Int32] = []
    var seqLengths: [Int] = []

    /// Fills the row from its segments; `example(k)` gives the ids and labels of example k.
    mutating func fill(_ segments: [PackedSegment], example: (Int) -> (ids: [UInt32], labels: LabelRanges),
                       oneSequence: Bool) {
        arrays.inputIds.removeAll(keepingCapacity: true)
        arrays.attentionMask.removeAll(keepingCapacity: true)
        arrays.labels.removeAll(keepingCapacity: true)
        positionIds.removeAll(keepingCapacity: true)
        seqLengths.removeAll(keepingCapacity: true)
        var position: Int32 = 0
        for s in segments {
            let (ids, labels) = example(s.example)
            let piece = labels.restricted(to: s.tokens)
            if !oneSequence { position = 0 }
            piece.forEach(count: s.tokens.count) { i, labelled in
                let id = Int32(truncatingIfNeeded: Int(ids[s.tokens.lowerBound + i]))
                arrays.inputIds.append(id)
                arrays.attentionMask.append(1)
                arrays.labels.append(labelled ? id : -100)
                positionIds.append(position)
                position += 1
            }
            if !oneSequence { seqLengths.append(s.tokens.count) }
        }
        if oneSequence { seqLengths.append(arrays.inputIds.count) }
    }

    /// `{"input_ids": [...], "attention_mask": [...], "labels": [...], "position_ids": [...], "seq_lengths": [...]}`
    func jsonLine() -> [UInt8] {
        JSONLRowWriter.line([("input_ids", arrays.inputIds), ("attention_mask", arrays.attentionMask), ("labels", arrays.labels),
                             ("position_ids", positionIds), ("seq_lengths", seqLengths.map { Int32($0) })])
    }
}
