// Fuzz target: the regex engine and the Split pre-tokenizer on arbitrary bytes. The input is
// split at its first NUL into a pattern and a text (both repaired to valid UTF-8 as a String
// would be); the last byte picks the Split behaviour and `invert`. The pattern is compiled (an
// error is fine), matched over the text, and used to split it. Must hold: no crash; matches in
// order, non-overlapping, on scalar boundaries; pieces non-empty and in order; the work within
// the matcher's documented bound (8 × instructions × (n + 1) plus the runs' budgets).

import Foundation

let behaviors = SplitDelimiterBehavior.allCases

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegex(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let cut = bytes.firstIndex(of: 0) ?? size
    let pattern = String(decoding: bytes[0..<cut], as: UTF8.self)
    let text = Array(String(decoding: bytes[min(cut + 1, size)..<size], as: UTF8.self).utf8)
    guard let program = try? RegexProgram(pattern: pattern) else { return 0 }
    let pick = size > 0 ? Int(bytes[size - 1]) : 0
    let matcher = RegexMatcher()
    text.withUnsafeBufferPointer { buf in
        let n = buf.count
        var last = 0
        var lastStart = -1
        matcher.forEachMatch(program, in: buf) { s, e in
            precondition(s >= last && s >= lastStart && s <= e && e <= n, "match [\(s), \(e)) out of order")
            precondition(s == n || buf[s] & 0xC0 != 0x80, "match starts inside a scalar")
            precondition(e == n || buf[e] & 0xC0 != 0x80, "match ends inside a scalar")
            last = e
            lastStart = s
        }
        let bound = 8 * program.instCount * (n + 1) + program.runPCs.count * (4 * (n + 1) + 64) + 64
        precondition(matcher.steps <= bound, "\(matcher.steps) steps > bound \(bound) for \(pattern.debugDescription)")
        let step = GenericPreTokenizer(.split(program, behaviors[pick % behaviors.count], invert: pick & 8 != 0))
        var end = 0
        step.split(buf, 0, n, RegexMatcher()) { s, e in
            precondition(s >= end && s < e && e <= n, "piece [\(s), \(e)) out of order")
            end = e
        }
    }
    return 0
}
