// The matching loop: a backtracking search in Oniguruma's priority order, memoized so that no
// state is explored twice (RE2's "bit-state" idea), which keeps the leftmost-first match exact
// and the work linear in the text.
//
// A state is (instruction, position). The search is a depth-first walk with an explicit job
// stack: `split` pushes its second branch and follows the first, so the first match found is the
// one a backtracking engine such as Oniguruma returns. Every instruction that can be reached at
// one position along two paths (a "memo slot": join points, loop heads, run instructions and
// their continuations) marks the state visited when first entered; entering a visited state again
// fails at once, because its outcome cannot differ (nothing outside the state — no captures, no
// back-references — affects what follows). Other instructions have a single predecessor, so they
// run no more often than it does. The memo is kept across the successive searches of
// `forEachMatch`: a state an earlier search visited failed then, unless it lay on that search's
// successful path; such states at the match end are un-marked (the whole column, `slots` bits),
// and positions before the end are never visited again since searches move forward.
//
// Pieces with their own bound:
// - Run instructions (`\p{L}+`, `\s*`, `[^\r\n]{1,3}`: one class repeated, greedy or possessive,
//   main program only) scan the run once and try continuations from the longest. An unbounded
//   run marks every entry position inside the scanned run as visited (an entry there has a
//   subset of the same candidates). Bounded runs cost up to `max` per entry; the compiler charges
//   `max` to the pattern's cost limit. A run whose scans and candidates exceed
//   4 × (n + 1) + 64 steps in one pass switches to its plain-loop fallback, which is memoized per
//   position, so contrived patterns (`a*\w*b`) stay linear.
// - Look-around and atomic bodies are sub-programs with their own memo, kept across all their
//   evaluations in a pass. Their states have three outcomes: unknown, failed (visited), or
//   succeeded (with the first end, for atomic groups): when an evaluation succeeds, the states
//   on its path (the path markers left on the stack) are marked succeeded, so a later evaluation
//   that reaches one stops there. Each sub-program state is expanded at most once per pass.
//   A one-scalar look-around (`(?!\S)`) is a direct test, not a sub-program.
// - Oniguruma's empty-loop check (an iteration of `x*` that matches empty leaves the loop) is
//   compiled into the program counter (RegexCompiler.emptyCheckedLoop), so it costs nothing here.
//
// Cost of a pass over n bytes with I instructions and S memo slots: each state runs O(1) times,
// O(I × (n + 1)), plus the bounded runs' maxima per entry, plus the run budgets, plus at most
// S × I re-runs per match after its end column is cleared — O(S × I × (n + 1)) in the worst case,
// linear in the text for a given pattern (the compiler caps I at 20,000). Memory: S × (n + 1)
// bits per (sub-)program, as bitmaps up to 8 MB each, else hash sets (bounded by the work).
// `steps` counts the work, for tests. Pieces no match can start in (no byte of the pattern's
// first-byte set) cost one scan; a pattern that is one literal is searched with memchr.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs compiled regexes over UTF-8 text. Holds the scratch memory (memo bitmaps, the job
/// stack), so reuse one per thread; it is not thread-safe, and a callback must not start another
/// search on the same matcher.
final class RegexMatcher {
    private var stack = UnsafeMutablePointer<RegexJob>.allocate(capacity: 256)
    private var stackCapacity = 256
    private var runWork = UnsafeMutablePointer<Int>.allocate(capacity: 16)
    private var runWorkCapacity = 16
    /// One memo per (sub-)program of the largest program seen.
    private var memos = UnsafeMutablePointer<RegexMemo>.allocate(capacity: 4)
    private var memoCount = 0
    private var memoCapacity = 4
    private var generation = 0
    /// Stands in for the base address of an empty text.
    nonisolated(unsafe) private static let emptyText: UnsafeMutablePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// Work done since the matcher was created (instructions executed, scalars scanned by runs).
    private(set) var steps = 0

    init() {}

    deinit {
        stack.deallocate()
        runWork.deallocate()
        for k in 0..<memoCount { memos[k].deallocate() }
        memos.deinitialize(count: memoCount)
        memos.deallocate()
    }

    /// Calls `body(start, end)` with the byte range of each match of `program` in `text`, in
    /// order, as Oniguruma's `find_iter` (the `onig` crate) does: after a match ending at `e`, the
    /// next search starts at `e`, and an empty match at the end of the previous match is skipped
    /// by searching again one scalar further.
    /// `text` must be valid UTF-8; offsets are byte offsets into it.
    /// - Complexity: O((instructions + bounded-run maxima) × (n + 1)), see the file header.
    func forEachMatch(_ program: RegexProgram, in text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        let n = text.count
        if n > 0, let lit = program.literal, !lit.isEmpty, let base = text.baseAddress {
            forEachLiteral(lit, base, n, body)
            return
        }
        if !program.canMatchEmpty {
            // Most pieces a pattern is tried on hold no byte a match could start with.
            guard let base = text.baseAddress else { return }
            let first = program.firstBytes
            var i = 0
            while i < n && !first[Int(base[i])] { i += 1 }
            if i == n { return }
        }
        withSearch(program, text) { search in
            var lastEnd = 0
            var lastMatchEnd = -1
            while lastEnd <= n {
                guard let (s, e) = search.search(from: lastEnd) else { break }
                if s == e && e == lastMatchEnd {
                    lastEnd += lastEnd < n ? RegexSearch.scalarLength(search.text[lastEnd]) : 1
                    continue
                }
                lastEnd = e
                lastMatchEnd = e
                body(s, e)
            }
        }
    }

    private func withSearch(_ program: RegexProgram, _ text: UnsafeBufferPointer<UInt8>, _ body: (inout RegexSearch) -> Void) {
        generation += 1
        let subs = program.subs.count
        if subs > memoCapacity {
            let bigger = UnsafeMutablePointer<RegexMemo>.allocate(capacity: subs)
            bigger.moveInitialize(from: memos, count: memoCount)
            memos.deallocate()
            memos = bigger
            memoCapacity = subs
        }
        while memoCount < subs {
            (memos + memoCount).initialize(to: RegexMemo())
            memoCount += 1
        }
        memos[0].reset(slots: Int(program.subs[0].slotCount), maxPosition: text.count, trackSuccess: false)
        memos[0].generation = generation
        let runs = program.runPCs.count
        if runs > runWorkCapacity {
            runWork.deallocate()
            runWork = .allocate(capacity: runs)
            runWorkCapacity = runs
        }
        runWork.update(repeating: 0, count: runs)
        var search = RegexSearch(program: program, text: text.baseAddress ?? UnsafePointer(RegexMatcher.emptyText), n: text.count,
                                 memos: memos, stack: stack, stackCapacity: stackCapacity, runWork: runWork,
                                 runBudget: 4 * (text.count + 1) + 64, generation: generation)
        body(&search)
        stack = search.stack
        stackCapacity = search.stackCapacity
        steps += search.steps
    }

    private func forEachLiteral(_ lit: [UInt8], _ base: UnsafePointer<UInt8>, _ count: Int, _ body: (Int, Int) -> Void) {
        let len = lit.count
        var i = 0
        var work = 0
        lit.withUnsafeBufferPointer { l in
            let first = l[0]
            while i + len <= count {
                guard let hit = memchr(base + i, Int32(first), count - len + 1 - i) else { break }
                let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                work += at - i + 1
                if len == 1 || memcmp(base + at + 1, l.baseAddress! + 1, len - 1) == 0 {
                    body(at, at + len)
                    i = at + len
                } else {
                    i = at + 1
                }
            }
        }
        steps += work
    }
}

struct RegexJob {
    enum Kind: Int32 { case explore, path, runNext }
    var kind: Kind
    var pc: Int32
    var pos: Int
    var aux: Int
}

/// One pass of a program over one text: the hot state, kept in a struct so the loop pays no
/// exclusivity checks.
struct RegexSearch {
    let program: RegexProgram
    let text: UnsafePointer<UInt8>
    let n: Int
    let memos: UnsafeMutablePointer<RegexMemo>
    var stack: UnsafeMutablePointer<RegexJob>
    var stackCapacity: Int
    var stackCount = 0
    let runWork: UnsafeMutablePointer<Int>
    let runBudget: Int
    let generation: Int
    var steps = 0
    let subs: UnsafeMutablePointer<RegexSub>
    let firstBytes: UnsafeMutablePointer<Bool>
    let canMatchEmpty: Bool

    init(program: RegexProgram, text: UnsafePointer<UInt8>, n: Int, memos: UnsafeMutablePointer<RegexMemo>, stack: UnsafeMutablePointer<RegexJob>,
         stackCapacity: Int, runWork: UnsafeMutablePointer<Int>, runBudget: Int, generation: Int) {
        self.program = program
        self.text = text
        self.n = n
        self.memos = memos
        self.stack = stack
        self.stackCapacity = stackCapacity
        self.runWork = runWork
        self.runBudget = runBudget
        self.generation = generation
        subs = program.subTable
        firstBytes = program.firstBytes
        canMatchEmpty = program.canMatchEmpty
    }

    @inline(__always)
    static func scalarLength(_ b: UInt8) -> Int {
        b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
    }

    /// Leftmost match starting at `from` or later (a scalar boundary).
    mutating func search(from: Int) -> (Int, Int)? {
        let first = firstBytes
        let entry = subs[0].entry
        var s = from
        if canMatchEmpty {
            while s <= n {
                let e = run(0, entry, s)
                if e >= 0 { return (s, e) }
                if s == n { break }
                s += RegexSearch.scalarLength(text[s])
            }
        } else {
            while true {
                while s < n && !first[Int(text[s])] { s += 1 }
                if s >= n { return nil }
                let e = run(0, entry, s)
                if e >= 0 { return (s, e) }
                s += RegexSearch.scalarLength(text[s])
            }
        }
        return nil
    }

    // MARK: Job stack

    @inline(__always)
    private mutating func push(_ kind: RegexJob.Kind, _ pc: Int32, _ pos: Int, _ aux: Int = 0) {
        if stackCount == stackCapacity {
            let bigger = UnsafeMutablePointer<RegexJob>.allocate(capacity: stackCapacity * 2)
            bigger.moveInitialize(from: stack, count: stackCount)
            stack.deallocate()
            stack = bigger
            stackCapacity *= 2
        }
        (stack + stackCount).initialize(to: RegexJob(kind: kind, pc: pc, pos: pos, aux: aux))
        stackCount += 1
    }

    // MARK: Scalars

    @inline(__always)
    private func decode(_ i: Int) -> (UInt32, Int) {
        let c0 = UInt32(text[i])
        if c0 < 0x80 { return (c0, 1) }
        if c0 < 0xE0 { return ((c0 & 0x1F) << 6 | UInt32(text[i + 1] & 0x3F), 2) }
        if c0 < 0xF0 {
            return ((c0 & 0x0F) << 12 | UInt32(text[i + 1] & 0x3F) << 6 | UInt32(text[i + 2] & 0x3F), 3)
        }
        return ((c0 & 0x07) << 18 | UInt32(text[i + 1] & 0x3F) << 12 | UInt32(text[i + 2] & 0x3F) << 6
            | UInt32(text[i + 3] & 0x3F), 4)
    }

    /// The scalar ending at `i` (> 0) and its length.
    @inline(__always)
    private func decodeBefore(_ i: Int) -> (UInt32, Int) {
        var k = i - 1
        while text[k] & 0xC0 == 0x80 { k -= 1 }
        return (decode(k).0, i - k)
    }

    private func isWord(at i: Int) -> Bool {
        i < n && program.classes[Int(program.wordClass)].contains(decode(i).0)
    }

    private func isWord(before i: Int) -> Bool {
        i > 0 && program.classes[Int(program.wordClass)].contains(decodeBefore(i).0)
    }

    private func anchorHolds(_ code: Int32, _ pos: Int) -> Bool {
        switch code {
        case 0: return pos == 0 || (text[pos - 1] == 0x0A && pos != n)
        case 1: return pos == n || text[pos] == 0x0A
        case 2: return pos == 0
        case 3: return pos == n
        case 4: return pos == n || (pos + 1 == n && text[pos] == 0x0A)
        case 5: return isWord(before: pos) != isWord(at: pos)
        default: return isWord(before: pos) == isWord(at: pos)
        }
    }

    /// A case-fold chunk of `count` folded scalars at `fold` (see RegexCompiler.foldRun): one
    /// scalar whose full folding is the chunk, or one scalar per position from that position's
    /// case orbit. Returns the end, or -1.
    private func matchFold(_ fold: UnsafeMutablePointer<UInt32>, _ count: Int, _ pos: Int) -> Int {
        guard pos < n else { return -1 }
        let (v, l) = decode(pos)
        if let m = UnicodeTables.multiFolds[v] {
            guard m.count == count else { return -1 }
            for j in 0..<count where UnicodeTables.canonical(m[j]) != fold[j] { return -1 }
            return pos + l
        }
        var q = pos
        for j in 0..<count {
            guard q < n else { return -1 }
            let (c, len) = decode(q)
            guard UnicodeTables.canonical(c) == fold[j] else { return -1 }
            q += len
        }
        return q
    }

    // MARK: The search

    /// Runs (sub-)program `sub` from `entry` at `start`; returns the end of its first match in
    /// priority order, or -1.
    mutating func run(_ sub: Int, _ entry: Int32, _ start: Int) -> Int {
        let memo = memos + sub
        let info = subs[sub]
        let isSub = sub != 0
        if isSub && memo.pointee.generation != generation {
            memo.pointee.reset(slots: Int(info.slotCount), maxPosition: n, trackSuccess: true)
            memo.pointee.generation = generation
        }
        // The memo's bitmaps, read directly when dense (slot-major: bit `pos` of row `slot`).
        let dense = memo.pointee.dense
        let visited = memo.pointee.visitedBits ?? UnsafeMutablePointer<UInt64>(bitPattern: 8)!
        let succeeded = memo.pointee.succeededBits ?? UnsafeMutablePointer<UInt64>(bitPattern: 8)!
        let stride = memo.pointee.stride
        let insts = program.insts
        let classes = program.classes
        let text = self.text
        let n = self.n
        let base = stackCount
        var result = -1
        var work = 0
        push(.explore, entry, start)
        outer: while stackCount > base {
            stackCount -= 1
            let job = stack[stackCount]
            var pc: Int32
            var pos: Int
            switch job.kind {
            case .path:
                continue outer
            case .runNext:
                // The next shorter candidate of a greedy run (job.pos: the candidate just tried,
                // job.aux: the shortest allowed end).
                var j = job.pos - 1
                while text[j] & 0xC0 == 0x80 { j -= 1 }
                if j > job.aux { push(.runNext, job.pc, j, job.aux) }
                runWork[Int(insts[Int(job.pc)].d)] += 1
                pc = insts[Int(job.pc)].next
                pos = j
            case .explore:
                pc = job.pc
                pos = job.pos
            }
            while true {
                work += 1
                let inst = insts[Int(pc)]
                if inst.slot >= 0 {
                    let slot = Int(inst.slot)
                    if dense {
                        let w = slot * stride + pos >> 6
                        let bit: UInt64 = 1 << UInt64(pos & 63)
                        if isSub && succeeded[w] & bit != 0 {
                            result = info.isAtomic ? memo.pointee.end(slot, pos) : pos
                            break outer
                        }
                        let old = visited[w]
                        if old & bit != 0 { continue outer }
                        visited[w] = old | bit
                    } else {
                        if isSub && memo.pointee.isSucceeded(slot, pos) {
                            result = info.isAtomic ? memo.pointee.end(slot, pos) : pos
                            break outer
                        }
                        if memo.pointee.testAndSetVisited(slot, pos) { continue outer }
                    }
                    // Sub-programs remember their successful path (see the end of this function).
                    if isSub { push(.path, pc, pos) }
                }
                switch inst.op {
                case .bytes:
                    let len = Int(inst.b)
                    guard pos + len <= n, memcmp(text + pos, program.bytePool + Int(inst.a), len) == 0 else { continue outer }
                    pos += len
                    pc = inst.next
                case .bytesBack:
                    let len = Int(inst.b)
                    guard pos - len >= 0, memcmp(text + pos - len, program.bytePool + Int(inst.a), len) == 0 else { continue outer }
                    pos -= len
                    pc = inst.next
                case .set:
                    guard pos < n else { continue outer }
                    let b = text[pos]
                    if b < 0x80 {
                        guard classes[Int(inst.a)].containsASCII(b) else { continue outer }
                        pos += 1
                    } else {
                        let (v, l) = decode(pos)
                        guard classes[Int(inst.a)].contains(v) else { continue outer }
                        pos += l
                    }
                    pc = inst.next
                case .setBack:
                    guard pos > 0 else { continue outer }
                    let (v, l) = decodeBefore(pos)
                    guard classes[Int(inst.a)].contains(v) else { continue outer }
                    pos -= l
                    pc = inst.next
                case .fold:
                    let e = matchFold(program.foldPool + Int(inst.a), Int(inst.b), pos)
                    guard e >= 0 else { continue outer }
                    pos = e
                    pc = inst.next
                case .split:
                    push(.explore, inst.alt, pos)
                    pc = inst.next
                case .jump:
                    pc = inst.next
                case .assert:
                    guard anchorHolds(inst.a, pos) else { continue outer }
                    pc = inst.next
                case .lookSet:
                    let behind = inst.b & 2 != 0
                    var inClass = false
                    if behind {
                        if pos > 0 { inClass = classes[Int(inst.a)].contains(decodeBefore(pos).0) }
                    } else if pos < n {
                        inClass = classes[Int(inst.a)].contains(decode(pos).0)
                    }
                    guard inClass != (inst.b & 1 != 0) else { continue outer }
                    pc = inst.next
                case .look:
                    let s = Int(inst.a)
                    let found = run(s, subs[s].entry, pos) >= 0
                    guard found != (inst.b != 0) else { continue outer }
                    pc = inst.next
                case .atomic:
                    let s = Int(inst.a)
                    let e = run(s, subs[s].entry, pos)
                    guard e >= 0 else { continue outer }
                    pc = e != pos && inst.alt >= 0 ? inst.alt : inst.next
                    pos = e
                case .runGreedy, .runPossessive:
                    let r = Int(inst.d)
                    if inst.alt >= 0 && runWork[r] > runBudget {
                        pc = inst.alt
                        continue
                    }
                    let cls = classes[Int(inst.a)]
                    let limit = inst.c < 0 ? Int.max : Int(inst.c)
                    let min = Int(inst.b)
                    var q = pos, count = 0, minEnd = pos
                    while count < limit && q < n {
                        let b = text[q]
                        if b < 0x80 {
                            guard cls.containsASCII(b) else { break }
                            q += 1
                        } else {
                            let (v, l) = decode(q)
                            guard cls.contains(v) else { break }
                            q += l
                        }
                        count += 1
                        if count == min { minEnd = q }
                    }
                    work += count
                    runWork[r] += count + 1
                    if inst.c < 0 && q > pos {
                        // Every entry inside this run has a subset of these candidates.
                        memo.pointee.setVisited(Int(inst.slot), from: pos + 1, through: q)
                    }
                    guard count >= min else { continue outer }
                    if inst.op == .runGreedy && q > minEnd { push(.runNext, pc, q, minEnd) }
                    pos = q
                    pc = inst.next
                case .match:
                    result = pos
                    break outer
                }
            }
        }
        if result >= 0 {
            if isSub {
                // The path markers still on the stack are the states of the successful path:
                // a later evaluation that reaches one of them succeeds the same way.
                for k in base..<stackCount where stack[k].kind == .path {
                    let job = stack[k]
                    memo.pointee.setSucceeded(Int(insts[Int(job.pc)].slot), job.pos, end: result, recordEnd: info.isAtomic)
                }
            } else {
                // States of the successful path at the match end are not failures; the next
                // search starts there. (Earlier positions are never visited again.)
                memo.pointee.clearColumn(result)
            }
        }
        stackCount = base
        steps += work
        return result
    }
}
