// Pass 1 as a pipeline. Worker threads (one encoder each) take the rows of the submitted
// batches in order, a few at a time; the calling thread reads the next batches and handles each
// finished batch's results in input order (counting, spilling or writing them).
//
// Why the batches overlap: a batch is finished only when its longest row is, and while that row
// encodes on one thread the others would idle. With one batch at a time, a 2-thread megatron
// build of 128 MB of documents (76 KB on average, up to 5.8 MB) ran at half the encoder's 2-thread
// speed with 1.46 of 2 CPUs busy; workers now go on to the next batch's rows instead.
// Results never depend on scheduling: each row's result goes to its slot, batches are handed back
// in order, and an encoder's caches never change its ids.
// Memory: up to `inFlight` batches (4 MB of lines each, `LineBatch.byteLimit`) and their results.

import Dispatch
import Foundation

/// Encodes the rows of submitted batches on `workers.count` threads; `submit` and `finish` hand
/// the batches back, in order, with their results.
final class BatchPipeline<Worker, Result>: @unchecked Sendable {
    /// Batches submitted and not yet handed back, at most this many.
    static var inFlight: Int { 3 }

    private let state: State
    /// Emptied batches whose buffers can be filled again (saves allocating and faulting in
    /// fresh pages for every batch).
    private var spares: [LineBatch] = []

    /// - Parameter idle: kept up to date with the number of workers waiting for rows: the
    ///   threads a worker with a long row may use for its parts (LongText) without taking a
    ///   core from a worker that has rows.
    init(workers: [Worker], idle: AtomicCounter? = nil, body: @escaping (Worker, UnsafeBufferPointer<UInt8>) -> Result) {
        state = State(idle: idle)
        for worker in workers {
            state.exited.enter()
            // Each worker is used by its own thread only; `body` runs on every worker thread
            // at once.
            nonisolated(unsafe) let worker = worker
            nonisolated(unsafe) let body = body
            DispatchQueue.global().async { [state] in
                state.work { body(worker, $0) }
                state.exited.leave()
            }
        }
    }

    /// Stops the workers (after the rows they hold) and waits for them.
    deinit { state.stop() }

    /// Queues `batch`; then, while `inFlight` batches are queued, waits for the oldest and calls
    /// `handle` with it and its results (which `handle` may move out, `take()`). If `handle`
    /// throws, the workers stop before the error is rethrown.
    func submit(_ batch: LineBatch, handle: (LineBatch, inout [Result?]) throws -> Void) throws {
        state.enqueue(batch)
        while state.queued >= Self.inFlight { try handOldest(handle) }
    }

    /// Hands back every batch still queued, in order.
    func finish(handle: (LineBatch, inout [Result?]) throws -> Void) throws {
        while state.queued > 0 { try handOldest(handle) }
    }

    /// An empty batch, with the capacity of one already handed back when there is one.
    func takeSpare() -> LineBatch { spares.popLast() ?? LineBatch() }

    private func handOldest(_ handle: (LineBatch, inout [Result?]) throws -> Void) throws {
        var (batch, results) = state.waitForOldest()
        do {
            try handle(batch, &results)
        } catch {
            state.stop()
            throw error
        }
        results = []
        batch.removeAll()
        spares.append(batch)
    }

    /// What the workers and the calling thread share, under `condition`.
    private final class State: @unchecked Sendable {
        final class Job {
            let batch: LineBatch
            let results: UnsafeMutableBufferPointer<Result?>
            /// Rows handed to workers, rows finished.
            var taken = 0, done = 0
            /// Whether `results` were moved out (`takeResults`).
            private var moved = false
            init(_ batch: LineBatch) {
                self.batch = batch
                results = .allocate(capacity: batch.count)
                results.initialize(repeating: nil)
            }
            deinit {
                if !moved { results.deinitialize() }
                results.deallocate()
            }

            /// The results, moved into an array: no copy of each row's arrays (a retain, and a
            /// release when the job goes, ~200 instructions a short row of the writing thread).
            func takeResults() -> [Result?] {
                moved = true
                return [Result?](unsafeUninitializedCapacity: results.count) { buffer, count in
                    if let to = buffer.baseAddress, let from = results.baseAddress {
                        to.moveInitialize(from: from, count: results.count)
                    }
                    count = results.count
                }
            }
        }

        let condition = NSCondition()
        let idle: AtomicCounter?
        init(idle: AtomicCounter?) { self.idle = idle }
        /// In submission order; the first is the oldest not handed back.
        var jobs: [Job] = []
        var stopping = false
        /// Entered once per worker, left when it returns.
        let exited = DispatchGroup()

        var queued: Int {
            condition.lock()
            defer { condition.unlock() }
            return jobs.count
        }

        func enqueue(_ batch: LineBatch) {
            condition.lock()
            jobs.append(Job(batch))
            condition.broadcast()
            condition.unlock()
        }

        /// Waits until the oldest job is done, removes it and returns its batch and results.
        func waitForOldest() -> (LineBatch, [Result?]) {
            condition.lock()
            while jobs[0].done < jobs[0].batch.count { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            return (job.batch, job.takeResults())
        }

        /// A worker's loop: take the next rows (up to 64 rows or 64 KB) of the oldest job that
        /// has rows left, encode them outside the lock, count them done; sleep when there are none.
        func work(_ body: (UnsafeBufferPointer<UInt8>) -> Result) {
            condition.lock()
            while !stopping {
                guard let job = jobs.first(where: { $0.taken < $0.batch.count }) else {
                    idle?.add(1)
                    condition.wait()
                    idle?.add(-1)
                    continue
                }
                let start = job.taken
                var end = start, bytes = 0
                while end < job.batch.count && end - start < 64 && bytes < 64 << 10 {
                    bytes += job.batch.ranges[end].count
                    end += 1
                }
                job.taken = end
                condition.unlock()
                job.batch.bytes.withUnsafeBufferPointer { all in
                    for k in start..<end { job.results[k] = body(UnsafeBufferPointer(rebasing: all[job.batch.ranges[k]])) }
                }
                condition.lock()
                job.done += end - start
                if job.done == job.batch.count { condition.broadcast() }
            }
            condition.unlock()
        }

        /// Makes the workers return (each after the rows it holds) and waits for them.
        func stop() {
            condition.lock()
            stopping = true
            condition.broadcast()
            condition.unlock()
            exited.wait()
        }
    }
}
