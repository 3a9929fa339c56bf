import Tokenizer
import Foundation
let args = CommandLine.arguments
do {
    var o = LoadOptions()
    if args.count > 3 { o.encoding = args[3] == "-" ? nil : args[3] }
    if args.count > 4 { o.pattern = SplitPattern(name: args[4]) }
    let t0 = Date()
    let t = try Tokenizer.load(args[1], options: o)
    print("load", Date().timeIntervalSince(t0))
    let data = FileManager.default.contents(atPath: args[2])!
    var bad = 0, n = 0
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        let v = try JSON.parse(String(line))
        let text = v["text"]!.stringValue!
        let ids = v["ids"]!.arrayValue!.map { UInt32($0.intValue!) }
        let got = t.encode(text)
        n += 1
        if got != ids { bad += 1; if bad < 4 { print("MISMATCH", JSON.quoted(String(text.prefix(200))), "\n want", ids.prefix(40), "\n got ", got.prefix(40)) } }
        else if try t.decode(got) != text && t.format != .tokenizerJSON { print("ROUNDTRIP", JSON.quoted(String(text.prefix(100)))) }
    }
    print("rows", n, "bad", bad)
} catch { print(error) }
