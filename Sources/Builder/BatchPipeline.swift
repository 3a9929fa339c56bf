// Pass 1 as a pipeline: while the worker threads encode batch k, the calling thread handles the
// results of batch k − 1 (counting, spilling or writing them, in input order) and reads batch
// k + 1. Without it the workers wait during every batch's reading and writing, which for short
// documents (a few hundred bytes) costs a quarter of the throughput. One batch encodes at a time
// (the encoders are per worker thread), so results never depend on scheduling.

import Dispatch

/// Runs `encode` on one batch at a time in the background; `submit` hands back the previous
/// batch's results in order.
final class BatchPipeline<Result>: @unchecked Sendable {
    private let encode: (LineBatch) -> [Result?]
    private let queue = DispatchQueue(label: "finetok.encode")
    private let group = DispatchGroup()
    private var running: LineBatch?
    private var results: [Result?] = []

    init(encode: @escaping (LineBatch) -> [Result?]) {
        self.encode = encode
    }

    /// An emptied batch whose buffers can be filled again (saves allocating and faulting in
    /// fresh pages for every batch).
    private(set) var spare = LineBatch()

    /// Starts encoding `batch`, then calls `handle` with the batch before it, overlapping.
    /// If `handle` throws, the running batch is waited for before the error is rethrown.
    func submit(_ batch: LineBatch, handle: (LineBatch, [Result?]) throws -> Void) throws {
        var previous = waitForRunning()
        running = batch
        group.enter()
        queue.async {
            self.results = self.encode(batch)
            self.group.leave()
        }
        guard var (b, r) = previous else { return }
        previous = nil   // leaves `b` the only owner of its buffers
        do {
            try handle(b, r)
        } catch {
            _ = waitForRunning()
            throw error
        }
        r = []
        b.removeAll()
        spare = b
    }

    /// Takes the spare batch (empty, with its capacity).
    func takeSpare() -> LineBatch {
        let b = spare
        spare = LineBatch()
        return b
    }

    /// Handles the last batch.
    func finish(handle: (LineBatch, [Result?]) throws -> Void) throws {
        if let (b, r) = waitForRunning() { try handle(b, r) }
    }

    private func waitForRunning() -> (LineBatch, [Result?])? {
        guard let b = running else { return nil }
        group.wait()
        running = nil
        let r = results
        results = []
        return (b, r)
    }
}
