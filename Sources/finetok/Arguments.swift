// A small hand-written argument parser: `--name value`, `--name=value`, boolean flags,
// positionals, `-` for standard input, and `--` to end options. Unknown options are errors
// that suggest the closest known one.

import Foundation

/// A command-line mistake: printed with the command's usage hint, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// An input problem (a bad file, row or vocabulary): exit code 1.
struct InputError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// An output or system problem (cannot write, disk full): exit code 3.
struct IOFailure: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

struct ArgumentSpec {
    /// Options that take a value, without the leading dashes.
    var valued: Set<String>
    /// Boolean flags.
    var flags: Set<String>
}

struct Arguments {
    private(set) var values: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positionals: [String] = []

    init(_ args: ArraySlice<String>, spec: ArgumentSpec) throws {
        var i = args.startIndex
        var onlyPositionals = false
        while i < args.endIndex {
            let a = args[i]
            i += 1
            if onlyPositionals || a == "-" || !a.hasPrefix("-") { positionals.append(a); continue }
            if a == "--" { onlyPositionals = true; continue }
            var name = String(a.drop(while: { $0 == "-" }))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if name == "h" { name = "help" }
            if spec.flags.contains(name) || name == "help" {
                if inline != nil { throw UsageError("option --\(name) takes no value") }
                flags.insert(name)
            } else if spec.valued.contains(name) {
                if let inline {
                    values[name, default: []].append(inline)
                } else {
                    guard i < args.endIndex else { throw UsageError("option --\(name) needs a value") }
                    values[name, default: []].append(args[i])
                    i += 1
                }
            } else {
                let known = spec.valued.union(spec.flags)
                let hint = known.min(by: { editDistance($0, name) < editDistance($1, name) })
                    .flatMap { editDistance($0, name) <= 3 ? " (did you mean --\($0)?)" : nil } ?? ""
                throw UsageError("unknown option \(a)\(hint)")
            }
        }
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }

    /// The last value given for an option.
    func value(_ name: String) -> String? { values[name]?.last }

    func int(_ name: String, min: Int? = nil) throws -> Int? {
        guard let s = value(name) else { return nil }
        guard let v = Int(s) else { throw UsageError("--\(name) expects a whole number, got \"\(s)\"") }
        if let min, v < min { throw UsageError("--\(name) must be at least \(min), got \(v)") }
        return v
    }

    func double(_ name: String) throws -> Double? {
        guard let s = value(name) else { return nil }
        guard let v = Double(s), v.isFinite else { throw UsageError("--\(name) expects a number, got \"\(s)\"") }
        return v
    }

    func choice(_ name: String, _ allowed: [String]) throws -> String? {
        guard let s = value(name) else { return nil }
        guard allowed.contains(s) else {
            throw UsageError("--\(name) must be one of \(allowed.joined(separator: ", ")); got \"\(s)\"")
        }
        return s
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    for i in 1...a.count {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}
