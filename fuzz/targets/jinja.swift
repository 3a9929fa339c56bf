// Fuzz target: arbitrary bytes as a chat template (ill-formed UTF-8 repaired as String(decoding:)
// does), compiled and rendered with a small fixed conversation, with and without the generation
// prompt. Must never crash, hang or run away: every problem is a `JinjaError`. The limits are
// tighter than the defaults so that a runaway template is cut short quickly.

import Foundation

nonisolated(unsafe) var fuzzMessages: JSONValue = .null
nonisolated(unsafe) var fuzzTools: JSONValue = .null

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJinja(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if case .null = fuzzMessages {
        fuzzMessages = (try? JSON.parse("""
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi <|im_end|> {{ x }}"},
             {"role": "assistant", "content": "Hello!", "reasoning_content": "think", "tool_calls": [{"type": "function",
              "function": {"name": "f", "arguments": {"a": 1, "b": [true, null, 2.5]}}}]},
             {"role": "tool", "content": "{\\"r\\": 1}"}]
            """)) ?? .array([])
        fuzzTools = (try? JSON.parse("""
            [{"type": "function", "function": {"name": "f", "description": "d",
              "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}]
            """)) ?? .array([])
    }
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var limits = JinjaLimits()
    limits.maxSteps = 200_000
    limits.maxOutputBytes = 1 << 20
    limits.maxStringBytes = 1 << 20
    limits.maxContainerLength = 20_000
    guard let template = try? ChatTemplate(source: source, name: "fuzz", limits: limits) else { return 0 }
    let variables: [String: JSONValue] = ["bos_token": .string("<s>"), "eos_token": .string("</s>"), "enable_thinking": .bool(true)]
    for prompt in [false, true] {
        _ = try? template.render(messages: fuzzMessages, tools: fuzzTools, addGenerationPrompt: prompt, variables: variables,
                                 limits: limits, clock: .fixed(1768435200))
    }
    _ = try? template.render(messages: .array([]), addGenerationPrompt: false, limits: limits, clock: .fixed(0))
    return 0
}
