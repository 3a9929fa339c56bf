// How a row of a field template is read and rendered: its JSON members go straight into the
// fields the template names (`RowFields`), and the template, compiled to literal bytes and
// field indices (`CompiledTemplate`), writes the prompt and then the completion into one
// buffer (`FieldPlan.render`).
//
// Cost: a short row (~190 bytes of Python-written JSON, one `text` field, ~7 escapes) takes
// ~2,050 instructions to read and render, ~1,560 of them the JSON (callgrind, 42 k rows). It
// took 3,220 with the members kept in arrays keyed by Strings, the templates copied a row, and
// the JSON scanned 8 bytes at a time.

import Tokenizer

/// A JSONL row's fields as a field template reads them (`JSON.forEachMember`): the value of
/// each field the template names (the last one when a key repeats, as Python's `json` reads
/// it), a string as a range of `bytes` (decoded), anything else parsed. Other members are
/// skipped. One is reused from row to row, so a row makes no String and no array; its storage
/// is raw memory, so that changing it is not checked for exclusive access at run time (~120
/// instructions a row).
final class RowFields {
    enum Value {
        case string(Range<Int>)
        case other(JSONValue)
    }

    /// The fields read, in the order of `values` (`FieldPlan.names`), and their UTF-8.
    let names: [String]
    private let keys: [[UInt8]]
    /// Each name's value in the row read, nil when the row has none.
    let values: UnsafeMutableBufferPointer<Value?>
    /// The strings' bytes.
    let bytes = TextBuffer(capacity: 4096)

    init(names: [String]) {
        self.names = names
        keys = names.map { Array($0.utf8) }
        values = .allocate(capacity: names.count)
        values.initialize(repeating: nil)
    }

    deinit {
        values.deinitialize()
        values.deallocate()
    }

    /// Forgets the row read, keeping the memory.
    func removeAll() {
        for k in values.indices { values[k] = nil }
        bytes.removeAll()
    }

    /// The index of the field named `key` (its UTF-8), or -1 when the template reads no such
    /// field: the reader's `key` (compared as bytes, no String made).
    func index(ofKey key: UnsafeBufferPointer<UInt8>) -> Int {
        for (k, name) in keys.enumerated() where name.count == key.count {
            if name.withUnsafeBufferPointer({ $0.elementsEqual(key) }) { return k }
        }
        return -1
    }

    /// Sets field `k`'s value (`index(ofKey:)`; nothing for -1).
    func set(_ k: Int, _ value: JSONMember) {
        guard k >= 0 else { return }
        switch value {
        case .string(let b):
            let start = bytes.count
            bytes.append(b)
            values[k] = .string(start..<bytes.count)
        case .other(let v):
            values[k] = .other(v)
        }
    }
}

/// A field template compiled for rendering rows: literal bytes, and fields by their index in
/// `FieldPlan.names`. A class: a row picks one of two without copying their arrays (a copy
/// and its release cost ~150 instructions a row).
final class CompiledTemplate: Sendable {
    enum Step: Sendable {
        case literal([UInt8])
        case field(Int)
    }
    let steps: [Step]
    /// Index in `steps` of the placeholder that starts the completion.
    let completionStart: Int
    /// Its fields, each once, in order of appearance.
    let fields: [Int]

    init(_ template: Template, names: [String]) {
        var fields: [Int] = []
        steps = template.parts.map { part in
            switch part {
            case .literal(let l): return .literal(Array(l.utf8))
            case .field(let f):
                // Every placeholder is among the names (FieldPlan makes them from the templates).
                let k = names.firstIndex(of: f) ?? 0
                if !fields.contains(k) { fields.append(k) }
                return .field(k)
            }
        }
        completionStart = template.completionStart
        self.fields = fields
    }
}

/// What a field template reads from a row and how it renders it (a class, as
/// `CompiledTemplate`: a row takes it without copying its arrays).
final class FieldPlan: Sendable {
    /// Every field either template names, each once (`RowFields.names`).
    let names: [String]
    let main: CompiledTemplate
    /// Alpaca's variant for rows whose `input` is missing, null or empty, and `input`'s index.
    let noInput: (template: CompiledTemplate, input: Int)?

    init(main: Template, noInput: Template?) {
        var names = main.fields
        for f in (noInput?.fields ?? []) + (noInput == nil ? [] : ["input"]) where !names.contains(f) { names.append(f) }
        self.names = names
        self.main = CompiledTemplate(main, names: names)
        self.noInput = noInput.map { (CompiledTemplate($0, names: names), names.firstIndex(of: "input") ?? 0) }
    }

    /// An empty set of the fields a row is read for.
    func rowFields() -> RowFields { RowFields(names: names) }

    /// Reads a JSONL row's fields into `fields` and renders it into `out` (emptied first): the
    /// prompt's bytes, then the completion's. Returns the prompt's length in bytes, or says what
    /// is wrong with the row (a row missing a field that is a chat conversation says so).
    /// `escapes`: as `JSON.forEachMember`'s.
    func render(line: UnsafeBufferPointer<UInt8>, fields: RowFields, escapes: UnsafeMutableBufferPointer<UInt8>? = nil,
                into out: TextBuffer) -> Result<Int, RowProblem> {
        fields.removeAll()
        let notAnObject: JSONValue?
        do { notAnObject = try JSON.forEachMember(line, escapes: escapes, key: fields.index(ofKey:), fields.set) } catch {
            return .failure(.malformed(error.message, column: error.offset + 1))
        }
        if let value = notAnObject { return .failure(.notAnObject(value.typeDescription)) }
        let result = render(fields, into: out)
        if case .failure(.missingField(let f, _)) = result {
            // The row's keys, for the message: read again (only rows in error).
            var keys: [String] = []
            if case .object(let members)? = try? JSON.parse(line) { keys = members.map(\.0) }
            if Conversation.format(fields: keys) != nil {
                return .failure(.chat("missing field \"\(f)\": this row is a chat conversation (\(keys.joined(separator: ", "))); leave out --template / --template-file to have it detected, or pass --chat-template"))
            }
            return .failure(.missingField(f, present: keys))
        }
        return result
    }

    /// Renders the row read into `row` (see above); a missing field's row keys are left empty.
    private func render(_ row: RowFields, into out: TextBuffer) -> Result<Int, RowProblem> {
        if let noInput {
            switch row.values[noInput.input] {
            case nil, .other(.null)?: return render(row, with: noInput.template, into: out)
            case .string(let r)? where r.isEmpty: return render(row, with: noInput.template, into: out)
            default: break
            }
        }
        // The template is passed, not bound to a variable: a variable holding one of the two
        // was retained and released a row.
        return render(row, with: main, into: out)
    }

    private func render(_ row: RowFields, with template: CompiledTemplate, into out: TextBuffer) -> Result<Int, RowProblem> {
        for k in template.fields {
            switch row.values[k] {
            case nil: return .failure(.missingField(names[k], present: []))
            case .other(let v)?: return .failure(.notAString(names[k], v.typeDescription))
            case .string?: continue
            }
        }
        out.removeAll()
        var promptBytes = 0
        let bytes = row.bytes.buffer
        for (s, step) in template.steps.enumerated() {
            if s == template.completionStart { promptBytes = out.count }
            switch step {
            case .literal(let l): out.append(l)
            case .field(let k): if case .string(let r)? = row.values[k] { out.append(UnsafeBufferPointer(rebasing: bytes[r])) }
            }
        }
        return .success(promptBytes)
    }
}
