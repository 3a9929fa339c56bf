// Fuzz target: one JSONL line through the builder's row stage (JSON reader → template → encode
// → mask → truncate) with the GPT-2 tokenizer. Must never crash; errors are values.

import Foundation

nonisolated(unsafe) var fuzzEncoder: ExampleEncoder?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if fuzzEncoder == nil {
        guard let t = try? Tokenizer.load("vocab/gpt2") else { fatalError("run from the repository root") }
        var s = EncodingSettings()
        s.eosId = t.eosTokenId
        s.maxLength = 64
        fuzzEncoder = ExampleEncoder(tokenizer: t, template: TemplateChoice(preset: .qa), settings: s)
    }
    let buffer = UnsafeBufferPointer(start: data, count: size)
    // Every line of the input, as LineReader would give them.
    var start = 0
    for i in 0...size where i == size || buffer[i] == 0x0A {
        let line = UnsafeBufferPointer(rebasing: buffer[start..<i])
        _ = fuzzEncoder?.process(line)
        _ = try? JSON.parse(line)
        start = i + 1
    }
    return 0
}
