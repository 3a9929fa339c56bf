#!/usr/bin/env python3
"""Reference ids and labels of a chat build, from transformers and HF tokenizers.

usage: reference_chat_build.py ROWS.jsonl --vocab MODEL_DIR [--chat-template FILE] [--kwargs JSON]
                               [--train-on assistant|last-assistant|all] [--out OUT.jsonl]
       reference_chat_build.py ROWS.jsonl --vocab MODEL_DIR ... --compare FINETOK_TRAIN.jsonl

For each row ({"messages": [...], "tools": [...]} or ShareGPT {"conversations": [...]}):
  text   = tokenizer.apply_chat_template(messages, tools=tools, tokenize=False, **kwargs)
           (the model folder's chat_template, or --chat-template's text)
  ids    = tokenizer(text, add_special_tokens=False)["input_ids"]  (HF tokenizers, with offsets)
  spans  = the {% generation %} blocks when the template has them (transformers'
           return_assistant_tokens_mask), else the prefix rule per assistant message i:
           [len(render(messages[:i], add_generation_prompt=True)), len(render(messages[:i+1])))
           (null when a prefix render is not a prefix of the text: finetok then uses its own
           anchored rule, which has no reference)
  labels = ids where the token's offsets overlap a span (transformers' rule for assistant masks:
           token_end > span_start and token_start < span_end), else -100
strftime_now reads SOURCE_DATE_EPOCH when set (as finetok does).

--compare checks `finetok build ... --test-size 0` output (input order, no truncation, no
padding) row by row: ids always; labels where the reference has spans. Exit status 1 on any
difference. Needs `pip install transformers tokenizers jinja2`.
"""
import argparse
import datetime
import json
import os
import re
import sys

epoch = os.environ.get("SOURCE_DATE_EPOCH")
if epoch is not None:
    class FixedDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.fromtimestamp(int(epoch), tz or datetime.timezone.utc).replace(tzinfo=tz)

    import transformers.utils.chat_template_utils as ctu
    ctu.datetime = FixedDatetime

from transformers import AutoTokenizer  # noqa: E402

ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "model": "assistant",
         "chatgpt": "assistant", "bing": "assistant", "bard": "assistant", "system": "system", "tool": "tool",
         "function": "tool", "function_response": "tool", "observation": "tool", "ipython": "tool"}


def conversation(row):
    if "messages" in row:
        msgs = [{k: v for k, v in m.items() if k not in ("train", "weight")} for m in row["messages"]]
        train = [m.get("train", True) is not False and m.get("weight", 1) != 0 for m in row["messages"]]
    else:
        msgs, train = [], []
        for t in row["conversations"]:
            m = {"role": ROLES[t["from"].lower()], "content": t["value"]}
            m.update({k: v for k, v in t.items() if k not in ("from", "value", "train", "weight")})
            msgs.append(m)
            train.append(t.get("train", True) is not False and t.get("weight", 1) != 0)
    return msgs, row.get("tools"), train


def reference(tok, row, template, kwargs, train_on):
    msgs, tools, train = conversation(row)

    def render(ms, gen=False):
        return tok.apply_chat_template(ms, tools=tools, tokenize=False, add_generation_prompt=gen,
                                       chat_template=template, **kwargs)

    text = render(msgs)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    if train_on == "all":
        return {"input_ids": ids, "labels": ids}
    assistants = [i for i, m in enumerate(msgs) if m["role"] == "assistant"]
    chosen = [i for i in assistants if train[i]]
    if train_on == "last-assistant":
        chosen = [i for i in chosen if i == assistants[-1]]
    source = template or tok.chat_template
    if re.search(r"\{%-?\s*generation\s*-?%\}", source):
        out = tok.apply_chat_template(msgs, tools=tools, tokenize=True, return_dict=True,
                                      return_assistant_tokens_mask=True, chat_template=template, **kwargs)
        if out["input_ids"] != ids:
            raise SystemExit("apply_chat_template(tokenize=True) differs from tokenizer(text)")
        if chosen != assistants:
            return {"input_ids": ids, "labels": None}
        return {"input_ids": ids, "labels": [i if m else -100 for i, m in zip(ids, out["assistant_masks"])]}
    spans = []
    for i in assistants:
        head, upto = render(msgs[:i], True), render(msgs[:i + 1])
        if not (text.startswith(head) and text.startswith(upto) and len(upto) >= len(head)):
            return {"input_ids": ids, "labels": None}
        if i in chosen:
            spans.append((len(head), len(upto)))
    labels = []
    for t, (s, e) in zip(ids, offsets):
        labels.append(t if any(e > a and s < b for a, b in spans) else -100)
    return {"input_ids": ids, "labels": labels}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows")
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--chat-template")
    ap.add_argument("--kwargs", default="{}")
    ap.add_argument("--train-on", default="assistant")
    ap.add_argument("--out")
    ap.add_argument("--compare")
    a = ap.parse_args()
    tok = AutoTokenizer.from_pretrained(a.vocab)
    template = open(a.chat_template, encoding="utf-8").read() if a.chat_template else None
    kwargs = json.loads(a.kwargs)
    refs = []
    for line in open(a.rows, encoding="utf-8"):
        if not line.strip():
            continue
        try:
            refs.append(reference(tok, json.loads(line), template, kwargs, a.train_on))
        except Exception as e:  # the template refuses the row
            refs.append({"error": f"{type(e).__name__}: {e}"})
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            for r in refs:
                f.write(json.dumps(r) + "\n")
    if a.compare:
        got = [json.loads(l) for l in open(a.compare, encoding="utf-8")]
        kept = [r for r in refs if "error" not in r]
        ids_ok = labels_ok = labels_checked = 0
        bad = []
        for k, (r, g) in enumerate(zip(kept, got)):
            if r["input_ids"] == g["input_ids"]:
                ids_ok += 1
            else:
                bad.append((k, "ids"))
            if r["labels"] is not None:
                labels_checked += 1
                if r["labels"] == g["labels"]:
                    labels_ok += 1
                else:
                    bad.append((k, "labels"))
        print(f"rows: {len(refs)} ({len(refs) - len(kept)} refused by the template), finetok wrote {len(got)}")
        print(f"ids equal: {ids_ok}/{len(kept)}; labels equal: {labels_ok}/{labels_checked} "
              f"(rows with reference spans)")
        for k, what in bad[:5]:
            print(f"  row {k}: {what} differ")
        sys.exit(0 if not bad and len(got) == len(kept) else 1)


if __name__ == "__main__":
    main()
