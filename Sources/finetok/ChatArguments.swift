// The chat options `build`, `lengths` and `render` share.

import Builder
import Foundation
import Tokenizer

enum ChatArguments {
    static let valued: Set<String> = ["chat-template", "template-kwargs", "train-on", "content-specials"]
    static let flags: Set<String> = ["eos"]

    static let help = """
        chat rows ({"messages": [...]} or ShareGPT {"conversations": [...]}, detected):
          --chat-template T      a Jinja file, a bundled template (\(BundledChatTemplate.allCases.map(\.rawValue).joined(separator: ", "))),
                                 or one of the model folder's named templates (tool_use, ...);
                                 default: the --vocab model folder's own chat_template
          --template-kwargs JSON extra template variables, e.g. '{"enable_thinking": false}'; they
                                 override the tokenizer's bos_token / eos_token (as transformers' kwargs)
          --train-on WHAT        assistant (default: every assistant turn, minus messages marked
                                 "train": false), last-assistant, or all (the whole text)
          --content-specials M   special (default: as HF, "<|im_end|>" typed in a message becomes the
                                 control token) or text (message data never yields added tokens)
          --eos                  append the end-of-text token (the template ends turns itself)
          strftime_now reads SOURCE_DATE_EPOCH when it is set (reproducible renders).
        """

    /// Reads the chat options (also when the rows turn out not to be chat rows).
    /// How the summaries name a chat template: "the vocabulary's chat_template", "the
    /// vocabulary's chat_template \"tool_use\"", "bundled chatml", or the file.
    static func describe(templateName name: String) -> String {
        if name == "vocabulary" { return "the vocabulary's chat_template" }
        if name.hasPrefix("vocabulary:") { return "the vocabulary's chat_template \"\(name.dropFirst("vocabulary:".count))\"" }
        if BundledChatTemplate(rawValue: name) != nil { return "bundled \(name)" }
        return name
    }

    static func options(_ args: Arguments) throws -> ChatOptions {
        var o = ChatOptions()
        if let t = args.value("chat-template") {
            if let bundled = BundledChatTemplate(rawValue: t) {
                o.template = .bundled(bundled)
            } else if t == "-" || t.contains("/") || t.hasSuffix(".jinja") || FileManager.default.fileExists(atPath: t) {
                let bytes: [UInt8]
                do { bytes = try LineReader.readAll(path: t, limit: templateFileLimit) } catch { throw InputError("\(error)") }
                guard let text = String(validating: bytes, as: UTF8.self) else { throw InputError("\(t): not valid UTF-8 text") }
                o.template = .text(text, path: t)
            } else {
                o.template = .named(t)
            }
        }
        if let k = args.value("template-kwargs") {
            do { o.kwargs = try ChatOptions.parseKwargs(k) } catch let e as BuildError { throw UsageError(e.description) }
        }
        if let t = try args.choice("train-on", TrainOn.allCases.map(\.rawValue)) { o.trainOn = TrainOn(rawValue: t) ?? .assistant }
        if let c = try args.choice("content-specials", ContentSpecials.allCases.map(\.rawValue)) {
            o.contentSpecials = ContentSpecials(rawValue: c) ?? .special
        }
        o.appendEOS = args.has("eos")
        return o
    }
}
