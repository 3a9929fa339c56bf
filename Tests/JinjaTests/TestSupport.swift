import Foundation
@testable import Jinja
import Tokenizer

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let jinjaFixtures = packageRoot.appendingPathComponent("Tests/JinjaTests/Fixtures")

func fixtureText(_ relative: String) -> String {
    let url = jinjaFixtures.appendingPathComponent(relative)
    guard let data = FileManager.default.contents(atPath: url.path) else { return "" }
    return String(decoding: data, as: UTF8.self)
}

/// The JSON lines of a fixture file.
func fixtureLines(_ relative: String) throws -> [JSONValue] {
    try fixtureText(relative).split(separator: "\n", omittingEmptySubsequences: true).map { line in
        try JSON.parse(String(line))
    }
}

/// The fixtures' render time: SOURCE_DATE_EPOCH 1768435200 (2026-01-15), as make_chat_fixtures.py.
let fixtureClock = JinjaClock.fixed(1768435200)

extension JSONValue {
    var objectDictionary: [String: JSONValue] {
        var d: [String: JSONValue] = [:]
        for (k, v) in objectValue ?? [] { d[k] = v }
        return d
    }
}

/// A short unified-style diff of two texts: the first differing line with context.
func firstDifference(_ expected: String, _ actual: String) -> String {
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    for i in 0..<max(e.count, a.count) {
        let x = i < e.count ? String(e[i]) : "<end>"
        let y = i < a.count ? String(a[i]) : "<end>"
        if x != y {
            return "line \(i + 1):\n  expected: \(x.debugDescription)\n  actual:   \(y.debugDescription)"
        }
    }
    return "texts are equal"
}
