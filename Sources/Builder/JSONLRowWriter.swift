// JSONL rows: `{"input_ids": [...], "attention_mask": [...], "labels": [...]}` per line, the
// format HF `datasets` loads with `load_dataset("json", ...)`.
//
// A JSONL build writes ~14 bytes of text a token, so the formatting is most of its pass 2.
// `format(ids:labels:...)` writes a row straight from its ids and labelled ranges:
//   - each id's text is copied once, into input_ids, with its ", ", from a table made at the
//     first row (`IdText`: 8 bytes an id below 2^18, else `DecimalFormatter`);
//   - the labels of a labelled run are a copy of that run's input_ids text (one memcpy);
//   - the attention mask, the masked labels and the padding are one short pattern ("1, ",
//     "-100, ", "0, ", the pad id) copied onto itself, doubling, so O(log n) memcpys;
//   - rows are formatted by batches into a buffer per thread, reused, then written in order
//     on a queue of their own while the next batches are formatted into a second set.
// Cost: one integer format and ~14 bytes of copies a token, against three formats, three Int32
// arrays and a fresh line per row through `Build.fill` and `line(_:)`, which stay as the
// reference (the tests compare the two), for npy / safetensors and for packed rows.
// 32 MB of en, one thread: build / encode 0.24–0.27 → 0.35–0.41 (medians of 7 rounds, three runs).

import Dispatch
import Foundation

/// Writes training rows as JSON lines.
final class JSONLRowWriter {
    let file: OutputFile
    /// Two sets of text buffers, one buffer per formatting thread in each, kept from batch to
    /// batch (a fresh array per line cost a page fault per 4 KB of every long row): while one
    /// set is written out on `writes`, the next round of batches is formatted into the other.
    private var buffers: [[TextBuffer]] = [[], []]
    private let writes = DispatchQueue(label: "finetok.jsonl-writes")
    /// The writes of each set still running, the set the next round is formatted into, and the
    /// first write error (kept from call to call: `write` returns before its last writes end).
    private let inFlight = [DispatchGroup(), DispatchGroup()]
    private var set = 0
    private let failure = FailureBox()
    /// Rows are formatted in batches of consecutive rows of about this many tokens (a longer
    /// row is a batch on its own): ~3.5 MB of text each by default.
    let batchTokens: Int

    init(path: String, batchTokens: Int = 1 << 18) throws(OutputError) {
        file = try OutputFile(path: path)
        self.batchTokens = batchTokens
    }

    /// Waits for the writes still running, then closes the file.
    func close() throws(OutputError) {
        inFlight[0].wait()
        inFlight[1].wait()
        if let error = failure.error { throw error }
        try file.close()
    }

    /// Writes the rows' lines after those of earlier calls, formatted on `threads` threads (one
    /// batch each at a time); the text is the same for any thread count. The writes of a round
    /// of batches run on their own queue while the next round is formatted (a 32 MB build's 98
    /// MB of JSONL took ~0.11 s of `write(2)`, a sixth of the build, with the formatting threads
    /// idle), and the last rounds' writes may still run when this returns: `close` waits for
    /// them, and a write error is thrown by the next call or by `close`.
    func write(_ rows: RowChunk, width: Int?, pad: Int32, side: PaddingSide, threads: Int) throws(OutputError) {
        var batches: [Range<Int>] = []
        var first = 0, tokens = 0
        for k in 0..<rows.count {
            tokens += max(width ?? 0, rows.tokens(k))
            if tokens >= batchTokens || k + 1 == rows.count {
                batches.append(first..<k + 1)
                first = k + 1
                tokens = 0
            }
        }
        for k in 0..<2 { while buffers[k].count < max(1, threads) { buffers[k].append(TextBuffer()) } }
        let failure = self.failure
        var round = 0
        while round < batches.count {
            inFlight[set].wait()   // this set's previous round is written
            if let error = failure.error { throw error }
            let group = Array(batches[round..<min(round + threads, batches.count)])
            let buffers = self.buffers[set]
            let format = { (t: Int) in
                let batch = group[t]
                let most = batch.reduce(0) { $0 + Self.maxLength(width: max(width ?? 0, rows.tokens($1))) }
                let p = buffers[t].reserve(most)
                var count = 0
                for k in batch {
                    count += rows.withRow(k) { ids, labels in
                        Self.format(ids: ids, labels: labels, width: width, pad: pad, side: side, to: p + count)
                    }
                }
                buffers[t].setCount(count)
            }
            if group.count == 1 {
                format(0)
            } else {
                nonisolated(unsafe) let format = format
                DispatchQueue.concurrentPerform(iterations: group.count) { format($0) }
            }
            nonisolated(unsafe) let file = file
            let count = group.count
            writes.async(group: inFlight[set]) {
                guard failure.error == nil else { return }
                do throws(OutputError) {
                    for t in 0..<count { try file.write(buffers[t].bytes) }
                } catch {
                    failure.record(error)
                }
            }
            round += group.count
            set ^= 1
        }
    }

    /// The first write error: set on the write queue, read by the formatting thread while the
    /// other set's writes may run, so behind a lock.
    private final class FailureBox: @unchecked Sendable {
        private var first: OutputError?
        private let lock = NSLock()

        var error: OutputError? {
            lock.lock()
            defer { lock.unlock() }
            return first
        }

        func record(_ e: OutputError) {
            lock.lock()
            if first == nil { first = e }
            lock.unlock()
        }
    }

    /// The longest line a row of `width` tokens can take: the keys, then at most 11 characters
    /// and ", " a number.
    static func maxLength(width: Int) -> Int { 64 + 3 * 13 * width }

    /// Writes one row's JSON line at `out` (room for `maxLength` of its padded width) and
    /// returns its length: exactly `line(_:)` of the arrays `Build.fill` makes from the same
    /// arguments (ids as Int32, padded to `width` on `side` with `pad`, mask 0 and label -100).
    /// - Complexity: O(width + labels' ranges).
    static func format(ids: UnsafeBufferPointer<UInt32>, labels: some Collection<Range<Int>>, width: Int?, pad: Int32,
                       side: PaddingSide, to base: UnsafeMutablePointer<UInt8>) -> Int {
        let n = ids.count
        let w = max(width ?? n, n)
        let padLeft = side == .left ? w - n : 0
        let padRight = w - n - padLeft
        // The labelled runs, clipped to the ids, and where their text is in input_ids (copied
        // into labels): on the stack, as a row of lamini_docs is formatted in ~1 µs.
        return withUnsafeTemporaryAllocation(of: (run: Range<Int>, from: Int, to: Int).self, capacity: labels.count) { runs in
            var count = 0
            for r in labels {
                let clipped = r.clamped(to: 0..<n)
                if !clipped.isEmpty { runs.initializeElement(at: count, to: (clipped, 0, 0)); count += 1 }
            }
            return format(ids: ids, runs: UnsafeMutableBufferPointer(rebasing: runs[0..<count]), padLeft: padLeft, padRight: padRight,
                          pad: pad, to: base)
        }
    }

    /// `format` with the labelled runs clipped (`from` and `to` are set here).
    @inline(__always)
    private static func format(ids: UnsafeBufferPointer<UInt32>, runs: UnsafeMutableBufferPointer<(run: Range<Int>, from: Int, to: Int)>,
                               padLeft: Int, padRight: Int, pad: Int32, to base: UnsafeMutablePointer<UInt8>) -> Int {
        let n = ids.count
        let w = n + padLeft + padRight
        var p = base
        // The pieces below take `p` as an argument: nested functions capturing it had each
        // access checked for exclusivity at run time (~15 checks a row, ~660 instructions a
        // row of pass 2 on short rows, callgrind).
        put("{\"input_ids\": [", &p)
        repeated(pad, padLeft, &p)
        var i = 0
        for r in runs.indices {
            let run = runs[r].run
            p = formatIds(ids[i..<run.lowerBound], to: p)
            runs[r].from = p - base
            p = formatIds(ids[run], to: p)
            runs[r].to = p - base
            i = run.upperBound
        }
        p = formatIds(ids[i...], to: p)
        repeated(pad, padRight, &p)
        close("], \"attention_mask\": [", w, &p)
        repeated(0, padLeft, &p)
        repeated(1, n, &p)
        repeated(0, padRight, &p)
        close("], \"labels\": [", w, &p)
        repeated(-100, padLeft, &p)
        i = 0
        for (run, from, to) in runs {
            repeated(-100, run.lowerBound - i, &p)
            p.update(from: base + from, count: to - from)
            p += to - from
            i = run.upperBound
        }
        repeated(-100, n - i + padRight, &p)
        close("]}\n", w, &p)
        return p - base
    }

    @inline(__always)
    private static func put(_ s: StaticString, _ p: inout UnsafeMutablePointer<UInt8>) {
        let k = s.utf8CodeUnitCount
        p.update(from: s.utf8Start, count: k)
        p += k
    }

    /// `times` copies of `value, `.
    @inline(__always)
    private static func repeated(_ value: Int32, _ times: Int, _ p: inout UnsafeMutablePointer<UInt8>) {
        guard times > 0 else { return }
        let start = p
        p += DecimalFormatter.shared.write(value, to: p)
        p[0] = UInt8(ascii: ","); p[1] = UInt8(ascii: " "); p += 2
        p = copyOntoItself(start, length: p - start, times: times)
    }

    /// Ends a field of a row `width` numbers wide: drops the last ", ".
    @inline(__always)
    private static func close(_ more: StaticString, _ width: Int, _ p: inout UnsafeMutablePointer<UInt8>) {
        if width > 0 { p -= 2 }
        put(more, &p)
    }

    /// Writes `id, ` for each id at `start`; returns the end. The hot loop of a JSONL build's
    /// pass 2: one 8-byte copy from `IdText` a token (the bytes past its text are overwritten
    /// by what follows; a row's room has 13 bytes a token), `DecimalFormatter` for larger ids.
    @inline(__always)
    static func formatIds(_ ids: Slice<UnsafeBufferPointer<UInt32>>, to start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let table = IdText.shared
        var p = start
        for id in ids {
            if id < IdText.count {
                UnsafeMutableRawPointer(p).storeBytes(of: table.text[Int(id)], as: UInt64.self)
                p += Int(table.length[Int(id)])
            } else {
                p += DecimalFormatter.shared.write(Int32(truncatingIfNeeded: id), to: p)
                p[0] = UInt8(ascii: ","); p[1] = UInt8(ascii: " ")
                p += 2
            }
        }
        return p
    }

    /// Extends the `length` bytes at `start` to `times` copies of them, doubling what is there
    /// with each copy; returns the end.
    @inline(__always)
    static func copyOntoItself(_ start: UnsafeMutablePointer<UInt8>, length: Int, times: Int) -> UnsafeMutablePointer<UInt8> {
        let total = length * times
        var done = length
        while done < total {
            let k = min(done, total - done)
            (start + done).update(from: start, count: k)
            done += k
        }
        return start + total
    }

    /// `{"k1": [1, 2], "k2": [3]}` and a newline: numbers written through a pointer into room
    /// for the longest possible line (a number takes at most 11 characters, then ", "), not
    /// appended byte by byte. The JSONL output of a build is ~14 bytes a token: at one `append` a byte, its
    /// formatting was half of a 32 MB build, and the line's growth by doubling another fifth.
    /// - Complexity: O(numbers); two digits per division by 100.
    static func line(_ fields: [(key: String, values: [Int32])]) -> [UInt8] {
        var most = 3
        for f in fields { most += f.key.utf8.count + 8 + 13 * f.values.count }
        let decimal = DecimalFormatter.shared
        return [UInt8](unsafeUninitializedCapacity: most) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            var p = base
            @inline(__always) func put(_ s: String) {
                for b in s.utf8 { p.pointee = b; p += 1 }
            }
            put("{")
            for (k, f) in fields.enumerated() {
                put(k == 0 ? "\"" : ", \"")
                put(f.key)
                put("\": [")
                f.values.withUnsafeBufferPointer { values in
                    for (i, v) in values.enumerated() {
                        if i > 0 { p[0] = UInt8(ascii: ","); p[1] = UInt8(ascii: " "); p += 2 }
                        p += decimal.write(v, to: p)
                    }
                }
                put("]")
            }
            put("}\n")
            count = p - base
        }
    }

}

/// `id, ` for every id below 2^18 (every bundled vocabulary; Gemma's has 256,000 ids), as the
/// 8 bytes to store (at most 6 digits and ", ", then padding) and its length: formatting an id
/// is a table load instead of a division per two digits. 2.3 MB, built at the first JSONL row
/// (~5 ms); ids are Zipf-distributed, so the rows touch a small part of it.
struct IdText: @unchecked Sendable {
    static let count = 1 << 18
    let text: UnsafePointer<UInt64>
    let length: UnsafePointer<UInt8>

    static let shared = IdText()

    private init() {
        let text = UnsafeMutablePointer<UInt64>.allocate(capacity: Self.count)
        let length = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.count)
        let decimal = DecimalFormatter.shared
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { scratch in
            guard let p = scratch.baseAddress else { return }
            for id in 0..<Self.count {
                p.update(repeating: 0x20, count: 16)
                let k = decimal.write(Int32(id), to: p)
                p[k] = UInt8(ascii: ","); p[k + 1] = UInt8(ascii: " ")
                text[id] = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
                length[id] = UInt8(k + 2)
            }
        }
        self.text = UnsafePointer(text)
        self.length = UnsafePointer(length)
    }
}

/// Decimal integers written through a pointer. `shared` is made once; take it once per loop
/// (each access to a global checks its initialization through `swift_once`: 3% of a JSONL build
/// when taken per number).
struct DecimalFormatter: @unchecked Sendable {
    /// 10^k for k in 0...9.
    let powersOfTen: UnsafePointer<UInt32>
    /// "00" to "99": the two ASCII digits of k as the bytes of `pairs[k]`.
    let pairs: UnsafePointer<UInt16>

    static let shared = DecimalFormatter()

    private init() {
        let powers = UnsafeMutablePointer<UInt32>.allocate(capacity: 10)
        var v: UInt32 = 1
        for k in 0..<10 { powers[k] = v; v = v &* 10 }
        let pairs = UnsafeMutablePointer<UInt16>.allocate(capacity: 100)
        for k in 0..<100 { pairs[k] = UInt16(littleEndian: UInt16(48 + k / 10) | UInt16(48 + k % 10) << 8) }
        powersOfTen = UnsafePointer(powers)
        self.pairs = UnsafePointer(pairs)
    }

    /// Writes `v` in decimal at `p` (room for 11 bytes); returns the count. The digit count
    /// comes from the bit length (no loop, no data-dependent branch), then two digits per
    /// division by 100, stored as one 16-bit pair from the table.
    @inline(__always)
    func write(_ v: Int32, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var q = p
        if v < 0 { q.pointee = UInt8(ascii: "-"); q += 1 }
        var x = v.magnitude
        // floor(log10(2) * bits) is the digit count or one less (1233 / 4096 ≈ log10(2));
        // `x | 1` makes 0 one digit and compares as x with the (even) powers of ten above 1.
        let estimate = ((32 - (x | 1).leadingZeroBitCount) &* 1233) >> 12
        let digits = estimate + ((x | 1) >= powersOfTen[estimate] ? 1 : 0)
        var end = q + digits
        while x >= 100 {
            let r = Int(x % 100)
            x /= 100
            end -= 2
            UnsafeMutableRawPointer(end).storeBytes(of: pairs[r], as: UInt16.self)
        }
        if x >= 10 {
            UnsafeMutableRawPointer(end - 2).storeBytes(of: pairs[Int(x)], as: UInt16.self)
        } else {
            end[-1] = UInt8(48 + x)
        }
        return q - p + digits
    }
}
