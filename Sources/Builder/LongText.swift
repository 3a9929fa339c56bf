// Long texts encoded in parts on several threads, with exactly the ids of the whole text.
//
// A text of more than 2 × `partBytes` is cut where the tokenizer allows it (`Tokenizer.cut`:
// between a letter and a space before a letter, where every split pattern ends a piece), into
// parts of `partBytes` to 2 × `partBytes`. `finetok bench` hands the parts of every document to
// its threads (ParallelEncoder); a build's worker that meets a long row encodes the row's parts
// on itself and the workers waiting for rows (ExampleEncoder, BatchPipeline's idle count),
// since the build's threads take whole rows and one 5.8 MB document otherwise leaves the
// other threads idle until it ends. Texts the tokenizer cannot cut (SentencePiece,
// normalizers other than NFC...) are encoded whole.

import Dispatch
import Tokenizer

enum LongText {
    /// Texts longer than twice this are cut into parts of about this size.
    static let partBytes = 256 << 10

    /// The parts of `text` (offsets into it, in order, covering it), or one range for the whole
    /// text when it is short or the tokenizer allows no cut.
    /// - Complexity: O(n): each cut scans at most `partBytes` bytes.
    static func parts(_ text: UnsafeBufferPointer<UInt8>, tokenizer: Tokenizer) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var from = 0
        while text.count - from > 2 * partBytes,
              let cut = tokenizer.cut(in: text, from: from + partBytes, to: from + 2 * partBytes) {
            ranges.append(from..<cut)
            from = cut
        }
        ranges.append(from..<text.count)
        return ranges
    }

    /// Appends the ids of `text` (valid UTF-8: the caller has checked it) to `out`: its parts
    /// are encoded on up to `contexts.count` threads at once (one context each; the calling
    /// thread is one of them), then put in order.
    static func encode(_ text: UnsafeBufferPointer<UInt8>, tokenizer: Tokenizer, contexts: ArraySlice<EncodingContext>, into out: inout [UInt32]) {
        let parts = Self.parts(text, tokenizer: tokenizer)
        guard parts.count > 1, contexts.count > 1 else {
            tokenizer.encode(validUTF8: text, into: &out, context: contexts[contexts.startIndex])
            return
        }
        var ids = [[UInt32]](repeating: [], count: parts.count)
        ids.withUnsafeMutableBufferPointer { results in
            // Each part's slot and each context are used by one thread at a time.
            nonisolated(unsafe) let results = results
            nonisolated(unsafe) let text = text
            nonisolated(unsafe) let contexts = Array(contexts)
            let next = AtomicCounter()
            nonisolated(unsafe) let encodeParts = { (t: Int) in
                while true {
                    let k = next.add(1)
                    if k >= parts.count { break }
                    tokenizer.encode(validUTF8: UnsafeBufferPointer(rebasing: text[parts[k]]), into: &results[k], context: contexts[t])
                }
            }
            // Helpers on queues of their own, not `concurrentPerform`: the calling thread is a
            // build worker of the global pool, whose other threads are busy or blocked, so the
            // pool gave it none and every part ran on the calling thread.
            let helpers = DispatchGroup()
            for t in 1..<min(contexts.count, parts.count) {
                DispatchQueue(label: "finetok.long-text").async(group: helpers) { encodeParts(t) }
            }
            encodeParts(0)
            helpers.wait()
        }
        out.reserveCapacity(out.count + ids.reduce(0) { $0 + $1.count })
        for part in ids { out += part }
    }
}
