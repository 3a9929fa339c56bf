// Fuzz target: encode → decode on arbitrary bytes with GPT-2 (vocab.json + merges.txt), pythia
// (tokenizer.json: NFC, added tokens) and cl100k (tiktoken). Valid UTF-8 must round-trip
// (pythia: to its NFC form); anything else must not crash (it is decoded lossily first, as a
// caller holding bytes would).

import Foundation

nonisolated(unsafe) var fuzzTokenizers: [Tokenizer] = []

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoundTrip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if fuzzTokenizers.isEmpty {
        for v in ["vocab/gpt2", "vocab/pythia", "vocab/cl100k_base"] {
            guard let t = try? Tokenizer.load(v) else { fatalError("run from the repository root") }
            fuzzTokenizers.append(t)
        }
    }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let valid = firstInvalidUTF8(bytes) == nil
    let text = String(decoding: bytes, as: UTF8.self)
    for t in fuzzTokenizers {
        let ids = t.encode(text)
        guard let back = try? t.decode(ids) else { fatalError("decode failed on ids from encode") }
        let expected = t.format == .tokenizerJSON ? String(decoding: text._nfcCodeUnits, as: UTF8.self) : text
        if valid && Array(back.utf8) != Array(expected.utf8) {
            fatalError("round trip failed for \(t.paths): \(Array(text.utf8))")
        }
    }
    return 0
}
