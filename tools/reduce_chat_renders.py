#!/usr/bin/env python3
"""Reduce the chat-template golden corpus to the small fixture the Jinja tests commit.

usage: reduce_chat_renders.py RENDERS.jsonl CONVERSATIONS.jsonl TEMPLATES_DIR OUT_DIR

RENDERS.jsonl is what `make_chat_fixtures.py` writes (one row per template x conversation,
rendered by transformers' `render_jinja_template`: `text` or `error`, `prefix_ok`, `spans`,
`generation`). This writes, under OUT_DIR (Tests/JinjaTests/Fixtures):

  templates/NAME.jinja     the templates, unchanged
  chat/conversations.jsonl the conversations, unchanged
  chat/expected.jsonl      one line per template:
      {"template": NAME, "kwargs": {...}, "renders": [...], "texts": {"ROW": TEXT, ...}}
    with one entry per conversation row in "renders":
      [row, bytes, sha256, spans, generation]   a render
      [row, error]                              a refusal (the exception, "TypeError: ...")
    and, in "texts", the full text of a few rows (the first two, the first with tools, the
    first with reasoning), so a mismatch can be shown as a diff.

`bytes` is the UTF-8 length of the text, `sha256` its SHA-256; `spans` are the prefix-rule
assistant spans (null where the rule does not hold), `generation` the {% generation %} spans
(only for templates that have such blocks). The renders themselves are not recomputed here:
regenerate RENDERS.jsonl with make_chat_fixtures.py first.
"""
import hashlib, json, os, shutil, sys


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    renders, conversations, templates, out = sys.argv[1:]
    convs = [json.loads(line) for line in open(conversations, encoding="utf-8")]
    first_tools = next((i for i, c in enumerate(convs) if c.get("tools")), 0)
    first_reasoning = next((i for i, c in enumerate(convs)
                            if any(m.get("reasoning_content") for m in c["messages"])), 0)
    with_text = {0, 1, first_tools, first_reasoning}

    os.makedirs(f"{out}/templates", exist_ok=True)
    os.makedirs(f"{out}/chat", exist_ok=True)
    shutil.copyfile(conversations, f"{out}/chat/conversations.jsonl")
    by_template = {}
    rows = 0
    for line in open(renders, encoding="utf-8"):
        r = json.loads(line)
        t = by_template.setdefault(r["template"], {"template": r["template"], "kwargs": r["kwargs"],
                                                    "renders": [], "texts": {}})
        assert t["kwargs"] == r["kwargs"], "one set of kwargs per template"
        if "error" in r:
            t["renders"].append([r["row"], r["error"]])
        else:
            data = r["text"].encode("utf-8")
            spans = r["spans"] if r.get("prefix_ok") else None
            t["renders"].append([r["row"], len(data), hashlib.sha256(data).hexdigest(), spans, r.get("generation")])
            if r["row"] in with_text:
                t["texts"][str(r["row"])] = r["text"]
        rows += 1
    names = sorted(by_template)
    with open(f"{out}/chat/expected.jsonl", "w", encoding="utf-8") as f:
        for name in names:
            f.write(json.dumps(by_template[name], ensure_ascii=False) + "\n")
    for name in names:
        shutil.copyfile(f"{templates}/{name}", f"{out}/templates/{name}")
    print(f"{rows} rows, {len(names)} templates, {len(convs)} conversations -> {out}")


if __name__ == "__main__":
    main()
