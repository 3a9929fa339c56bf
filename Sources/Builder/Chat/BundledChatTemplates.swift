// Chat templates finetok ships, for models that have none (base models fine-tuned into chat
// models): `--chat-template NAME`. Each marks the assistant text with `{% generation %}`, so
// labels come straight from the render (rule 1 of AssistantSpans.swift). They render the
// conventions their names say; special tokens (`bos_token`, `eos_token`) come from the
// tokenizer's configuration or `--template-kwargs`.

/// The named templates `--chat-template` accepts besides a file.
public enum BundledChatTemplate: String, CaseIterable, Sendable {
    /// OpenAI's ChatML: `<|im_start|>role\ncontent<|im_end|>\n` (Qwen, Hermes, SmolLM, TRL's
    /// `setup_chat_format`).
    case chatml
    /// Zephyr: `<|role|>\ncontent` + EOS + `\n`.
    case zephyr
    /// Llama 2 chat: `[INST] ... [/INST]`, the system prompt inside the first user turn.
    case llama2

    public var source: String {
        switch self {
        case .chatml:
            return """
            {%- for message in messages -%}
            {{- '<|im_start|>' + message['role'] + '\\n' -}}
            {%- if message['role'] == 'assistant' -%}
            {%- generation -%}{{- message['content'] + '<|im_end|>' -}}{%- endgeneration -%}{{- '\\n' -}}
            {%- else -%}
            {{- message['content'] + '<|im_end|>\\n' -}}
            {%- endif -%}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}
            """
        case .zephyr:
            return """
            {%- for message in messages -%}
            {{- '<|' + message['role'] + '|>\\n' -}}
            {%- if message['role'] == 'assistant' -%}
            {%- generation -%}{{- message['content'] + eos_token -}}{%- endgeneration -%}{{- '\\n' -}}
            {%- else -%}
            {{- message['content'] + eos_token + '\\n' -}}
            {%- endif -%}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}
            """
        case .llama2:
            return """
            {%- if messages[0]['role'] == 'system' -%}
            {%- set system = '<<SYS>>\\n' + messages[0]['content'] + '\\n<</SYS>>\\n\\n' -%}
            {%- set turns = messages[1:] -%}
            {%- else -%}
            {%- set system = '' -%}
            {%- set turns = messages -%}
            {%- endif -%}
            {%- for message in turns -%}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
            {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}
            {%- endif -%}
            {%- if message['role'] == 'user' -%}
            {{- bos_token + '[INST] ' + (system if loop.first else '') + message['content'] | trim + ' [/INST]' -}}
            {%- else -%}
            {%- generation -%}{{- ' ' + message['content'] | trim + ' ' + eos_token -}}{%- endgeneration -%}
            {%- endif -%}
            {%- endfor -%}
            """
        }
    }

    /// What `--help` says about each.
    public var summary: String {
        switch self {
        case .chatml: return "<|im_start|>role\\n...<|im_end|> (Qwen, Hermes, SmolLM, TRL's setup_chat_format)"
        case .zephyr: return "<|role|>\\n... + EOS (Zephyr, TinyLlama chat)"
        case .llama2: return "[INST] ... [/INST] with <<SYS>> in the first turn (Llama 2 chat)"
        }
    }
}
