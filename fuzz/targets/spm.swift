// Fuzz target: the SentencePiece `tokenizer.model` reader (ProtobufReader, SentencePieceModel) and
// the tokenizer built from whatever parses. Any bytes must give a model or a `TokenizerError`
// promptly, with bounded memory; a model that loads must encode a fixed text and a text taken
// from the input, and decode the ids and a few ids taken from the input.

import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSentencePiece(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let t = try? Tokenizer.sentencePiece(from: bytes, path: "fuzz.model") else { return 0 }
    var ids = t.encode("Hello, world! <s> 123 ünïcödé 中文  \n\n▁▁x ")
    ids += t.encode(String(decoding: bytes.suffix(64), as: UTF8.self))
    _ = try? t.decode(ids)
    _ = try? t.decode(ids, skipSpecialTokens: true)
    let some = bytes.prefix(16).map { UInt32($0) % UInt32(max(t.vocabularySize, 1)) }
    _ = try? t.decode(some)
    return 0
}
