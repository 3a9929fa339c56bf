// finetok-bench: the benchmark executable. Always build it -c release:
//
//   swift run -c release finetok-bench [--corpus FILE] [--vocab DIR] [--sections sizes,worst,load,threads,build]
//
// Sections:
//   sizes    throughput by document size, 10 B to 100 kB, cut from the corpus (or synthetic text)
//   calls    per-call cost of the convenience `encode(_:)` on many short texts
//   worst    1 MB of one letter, base64, digits, spaces, random CJK: MB/s, and the time for 2 MB
//            over the time for 1 MB (≈ 2 means linear)
//   load     tokenizer load time per bundled vocabulary (median of 5)
//   threads  1 vs 2 threads on the corpus documents, and whether the ids are identical
//   build    `Build.run` end to end on a generated JSONL (lamini_docs.jsonl tiled to --build-mb MB),
//            MB/s and peak resident memory
//   render   chat templates: renders/s per template on the fixture conversations (single thread),
//            with the digest `benchmarks/render_bench.py` prints for transformers (--chat-dir DIR
//            with templates/ and chat/conversations.jsonl; default Tests/JinjaTests/Fixtures)
//   latency  a random pointer chase over 256 KB to 16 MB: the cost of one dependent load at
//            each table size, which is what the merge tables' sizes are chosen against
//            (Sources/Tokenizer/PairTable.swift); not in the default set
// Timings are medians of repeated runs; the machine is shared, so compare ratios, not absolutes.

import Builder
import Dispatch
import Foundation
import Jinja
import Tokenizer

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

func argument(_ name: String) -> String? {
    let a = CommandLine.arguments
    guard let i = a.firstIndex(of: "--\(name)"), i + 1 < a.count else { return nil }
    return a[i + 1]
}

let sections = Set((argument("sections") ?? "sizes,calls,worst,load,threads,build,render").split(separator: ",").map(String.init))
let vocabPath = argument("vocab") ?? packageRoot.appendingPathComponent("vocab/gpt2").path
let tokenizer: Tokenizer
do { tokenizer = try Tokenizer.load(vocabPath); tokenizer.finishLoading() } catch {
    FileHandle.standardError.write(Data("finetok-bench: \(error)\n".utf8))
    exit(1)
}

/// Prints at once (stdout may be a file or pipe).
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Median seconds of `runs` calls.
func time(_ runs: Int = 5, _ body: () -> Void) -> Double {
    var t: [Double] = []
    for _ in 0..<runs {
        let s = now()
        body()
        t.append(now() - s)
    }
    t.sort()
    return t[t.count / 2]
}

func encodeAll(_ docs: [[UInt8]], _ context: EncodingContext) -> Int {
    var ids: [UInt32] = []
    var total = 0
    for d in docs {
        ids.removeAll(keepingCapacity: true)
        d.withUnsafeBufferPointer { tokenizer.encode(utf8: $0, into: &ids, context: context) }
        total += ids.count
    }
    return total
}

func row(_ cells: [String], _ widths: [Int]) -> String {
    zip(cells, widths).map { c, w in c.count >= w ? c + " " : c + String(repeating: " ", count: w - c.count) }.joined()
}

// Corpus text (valid UTF-8), or synthetic English-like text.
var corpus: [UInt8] = []
if let path = argument("corpus"), let data = FileManager.default.contents(atPath: path) {
    corpus = [UInt8](data)
    if String(validating: corpus, as: UTF8.self) == nil { corpus = Array(String(decoding: corpus, as: UTF8.self).utf8) }
} else {
    var rng: UInt64 = 42
    let words = "the of and to in is that for it as was with be by on not this are or from at which but have an they you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just".split(separator: " ")
    while corpus.count < 8_000_000 {
        rng = rng &* 6364136223846793005 &+ 1442695040888963407
        corpus.append(contentsOf: words[Int(rng >> 33) % words.count].utf8)
        corpus.append(rng >> 60 == 0 ? 0x0A : 0x20)
    }
}
say("finetok-bench · vocabulary \((vocabPath as NSString).lastPathComponent) · corpus \(argument("corpus") ?? "synthetic") (\(corpus.count / 1_000_000) MB) · \(ProcessInfo.processInfo.activeProcessorCount) cores")

/// Cuts `text` into documents of about `size` bytes, at UTF-8 boundaries.
func documents(of size: Int, from text: [UInt8], total: Int) -> [[UInt8]] {
    var docs: [[UInt8]] = []
    var at = 0
    var used = 0
    while used < total && at < text.count {
        var end = min(at + size, text.count)
        while end < text.count && text[end] & 0xC0 == 0x80 { end += 1 }
        docs.append(Array(text[at..<end]))
        used += end - at
        at = end
    }
    return docs
}

if sections.contains("sizes") {
    say("\n## Throughput by document size (single thread)")
    let widths = [12, 10, 12, 14]
    say(row(["doc size", "MB/s", "docs", "tokens/s"], widths))
    for size in [10, 100, 1_000, 10_000, 100_000] {
        let docs = documents(of: size, from: corpus, total: min(corpus.count, 8_000_000))
        let bytes = docs.reduce(0) { $0 + $1.count }
        let ctx = EncodingContext()
        var tokens = 0
        let t = time(3) { tokens = encodeAll(docs, ctx) }
        say(row(["\(size) B", String(format: "%.1f", Double(bytes) / 1e6 / t), "\(docs.count)", String(format: "%.0f", Double(tokens) / t)], widths))
    }
}

if sections.contains("calls") {
    say("\n## Many short texts through `encode(_:)` (the convenience call, no context kept)")
    let texts = (0..<20_000).map { "Hello world number \($0), a short text." }
    var tokens = 0
    let t = time(3) { tokens = texts.reduce(0) { $0 + tokenizer.encode($1).count } }
    say(String(format: "%d calls: %.1f µs per call (%d tokens)", texts.count, t / Double(texts.count) * 1e6, tokens))
}

if sections.contains("worst") {
    say("\n## Worst cases (one document each, single thread)")
    var rng: UInt64 = 7
    func random() -> UInt64 { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return rng >> 33 }
    let base64 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    func make(_ kind: String, _ n: Int) -> [UInt8] {
        switch kind {
        case "one letter": return [UInt8](repeating: UInt8(ascii: "a"), count: n)
        case "base64": return (0..<n).map { _ in base64[Int(random() % 64)] }
        case "digits": return (0..<n).map { _ in UInt8(48 + random() % 10) }
        case "spaces": return [UInt8](repeating: 0x20, count: n)
        default:
            var s = String.UnicodeScalarView()
            for _ in 0..<(n / 3) { s.append(Unicode.Scalar(UInt32(0x4E00 + random() % 0x5000)) ?? "中") }
            return Array(String(s).utf8)
        }
    }
    let widths = [14, 10, 12, 16]
    say(row(["input", "MB/s", "tokens", "t(2 MB)/t(1 MB)"], widths))
    for kind in ["one letter", "base64", "digits", "spaces", "random CJK"] {
        let one = make(kind, 1_000_000), two = make(kind, 2_000_000)
        let ctx = EncodingContext()
        var tokens = 0
        let t1 = time(3) { tokens = encodeAll([one], ctx) }
        let t2 = time(3) { _ = encodeAll([two], ctx) }
        say(row([kind, String(format: "%.1f", Double(one.count) / 1e6 / t1), "\(tokens)", String(format: "%.2f", t2 / t1)], widths))
    }
}

if sections.contains("load") {
    say("\n## Load time (median of 5)")
    let widths = [14, 12]
    say(row(["vocabulary", "ms"], widths))
    for name in ["gpt2", "pythia", "dolma2", "cl100k_base", "qwen2"] {
        let path = packageRoot.appendingPathComponent("vocab/\(name)").path
        var options = LoadOptions()
        if name == "qwen2" { options.encoding = "qwen2" }
        // The whole load, the tables built in the background included.
        let t = time(5) { (try? Tokenizer.load(path, options: options))?.finishLoading() }
        say(row([name, String(format: "%.1f", t * 1000)], widths))
    }
}

if sections.contains("latency") {
    say("\n## Dependent-load latency (random cyclic pointer chase, one line per hop, median of 3)")
    let widths = [10, 10]
    say(row(["table", "ns/load"], widths))
    for kb in [256, 512, 1024, 2048, 4096, 8192, 16384] {
        let words = kb * 1024 / 8, lines = words / 8
        let chain = UnsafeMutablePointer<Int>.allocate(capacity: words)
        chain.initialize(repeating: 0, count: words)
        var order = Array(0..<lines)
        var rng = SystemRandomNumberGenerator()
        order.shuffle(using: &rng)
        for k in 0..<lines { chain[order[k] * 8] = order[(k + 1) % lines] * 8 }
        let hops = 2_000_000
        var at = order[0] * 8
        let t = time(3) { for _ in 0..<hops { at = chain[at] } }
        if at < 0 { say("") }   // keeps the chase
        chain.deallocate()
        say(row([kb >= 1024 ? "\(kb / 1024) MB" : "\(kb) KB", String(format: "%.1f", t / Double(hops) * 1e9)], widths))
    }
}

if sections.contains("threads") {
    say("\n## Threads (corpus split on blank lines)")
    let docs = Documents.fromText(corpus, split: .blankLines)
    var counts1: [Int] = [], counts2: [Int] = []
    var t1 = 0.0, t2 = 0.0
    t1 = time(3) { let (t, c) = ParallelEncoder.run(docs, tokenizer: tokenizer, threads: 1); counts1 = c; _ = t }
    t2 = time(3) { let (t, c) = ParallelEncoder.run(docs, tokenizer: tokenizer, threads: 2); counts2 = c; _ = t }
    say(String(format: "1 thread %.1f MB/s · 2 threads %.1f MB/s · speed-up %.2f× · identical token counts: %@",
                 Double(docs.byteCount) / 1e6 / t1, Double(docs.byteCount) / 1e6 / t2, t1 / t2, counts1 == counts2 ? "yes" : "NO"))
}

if sections.contains("build") {
    let mb = Int(argument("build-mb") ?? "200") ?? 200
    say("\n## Build end to end (lamini_docs.jsonl tiled to \(mb) MB, template qa, jsonl output)")
    let lamini = packageRoot.appendingPathComponent("examples/lamini_docs.jsonl").path
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetok-bench-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let input = dir.appendingPathComponent("tiled.jsonl").path
    _ = FileManager.default.createFile(atPath: input, contents: nil)
    if let data = FileManager.default.contents(atPath: lamini), let handle = FileHandle(forWritingAtPath: input) {
        var written = 0
        while written < mb * 1_000_000 { handle.write(data); written += data.count }
        try? handle.close()
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
    for threads in [1, ProcessInfo.processInfo.activeProcessorCount] {
        var options = BuildOptions()
        options.template = .preset(.qa)
        options.threads = threads
        options.encoding.maxLength = 512
        let out = dir.appendingPathComponent("out\(threads)").path
        let s = now()
        do {
            let r = try Build.run(inputs: [input], tokenizer: tokenizer, options: options, outputDirectory: out)
            let t = now() - s
            say(String(format: "%d thread(s): %.1f MB/s (%d rows, %.1f s)", threads, Double(size) / 1e6 / t, r.rowsRead, t))
        } catch {
            say("build failed: \(error)")
        }
        try? FileManager.default.removeItem(atPath: out)
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    say(String(format: "peak resident memory of this process: %.0f MB", Double(usage.ru_maxrss) / 1024))
    try? FileManager.default.removeItem(at: dir)
}

if sections.contains("render") {
    let chatDir = URL(fileURLWithPath: argument("chat-dir") ?? packageRoot.appendingPathComponent("Tests/JinjaTests/Fixtures").path)
    let conversationsText = (try? String(contentsOf: chatDir.appendingPathComponent("chat/conversations.jsonl"), encoding: .utf8)) ?? ""
    let conversations = conversationsText.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: chatDir.appendingPathComponent("templates").path)) ?? [])
        .filter { $0.hasSuffix(".jinja") }.sorted()
    let only = argument("templates").map { Set($0.split(separator: ",").map(String.init)) }
    let minTime = Double(argument("min-time") ?? "1.0") ?? 1.0
    let variables: [String: JSONValue] = ["bos_token": .string("<s>"), "eos_token": .string("</s>"), "date_string": .string("26 Jul 2024")]
    let clock = JinjaClock.fixed(1768435200)
    say("\n## Chat template render (\(conversations.count) conversations, single thread; compare with benchmarks/render_bench.py)")
    let widths = [58, 11, 18]
    say(row(["template", "renders/s", "digest"], widths))
    for name in names where only?.contains(name) ?? true {
        guard let source = try? String(contentsOf: chatDir.appendingPathComponent("templates/\(name)"), encoding: .utf8),
              let template = try? ChatTemplate(source: source, name: name) else {
            say(row([name, "does not compile"], widths))
            continue
        }
        func renderAll() -> [ChatRendering?] {
            conversations.map { c in
                try? template.render(messages: c["messages"] ?? .array([]), tools: c["tools"], addGenerationPrompt: false,
                                     variables: variables, clock: clock)
            }
        }
        var digest: UInt64 = 0xCBF2_9CE4_8422_2325
        for r in renderAll() {
            guard let r else { continue }
            for b in r.utf8 + [0] {
                digest ^= UInt64(b)
                digest = digest &* 0x100_0000_01B3
            }
        }
        var runs = 0
        let start = now()
        var elapsed = 0.0
        repeat {
            _ = renderAll()
            runs += 1
            elapsed = now() - start
        } while elapsed < minTime
        say(row([name, String(format: "%.0f", Double(runs * conversations.count) / elapsed), String(digest, radix: 16).leftPadded(16)], widths))
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
