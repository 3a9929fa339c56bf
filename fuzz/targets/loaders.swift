// Fuzz target: the vocabulary loaders on arbitrary file contents. The first byte picks the
// format (tokenizer.json, vocab.json + a fixed merges.txt, merges.txt + a fixed vocab.json, a
// tiktoken rank file); whatever loads is then used to encode and decode a fixed text.

import Foundation

let fuzzDir: String = {
    let d = "/tmp/finetok-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLoaders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let body = Data(bytes: data + 1, count: size - 1)
    let fm = FileManager.default
    var path = ""
    switch data[0] % 4 {
    case 0:
        path = fuzzDir + "/tokenizer.json"
        fm.createFile(atPath: path, contents: body)
    case 1:
        fm.createFile(atPath: fuzzDir + "/vocab.json", contents: body)
        fm.createFile(atPath: fuzzDir + "/merges.txt", contents: Data("a b\n".utf8))
        path = fuzzDir + "/vocab.json"
    case 2:
        fm.createFile(atPath: fuzzDir + "/vocab.json", contents: Data(#"{"a": 0, "b": 1, "ab": 2, "c": 3}"#.utf8))
        fm.createFile(atPath: fuzzDir + "/merges.txt", contents: body)
        path = fuzzDir + "/merges.txt"
    default:
        path = fuzzDir + "/fuzz_cl100k.tiktoken"
        fm.createFile(atPath: path, contents: body)
    }
    if let t = try? Tokenizer.load(path) {
        let ids = t.encode("Hello, world! <|endoftext|> 123 ünïcödé 中文  \n\n")
        _ = try? t.decode(ids)
    }
    return 0
}
