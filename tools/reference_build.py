#!/usr/bin/env python3
"""An independent reference for `finetok build`, written with HF `tokenizers` + `datasets` +
numpy, following the documented semantics (separate prompt/completion encoding, EOS appended and
labelled, -100 on prompt and padding, left/right/drop truncation, padding, HF train_test_split).
Used to check finetok row for row; not part of the product.

usage: tools/reference_build.py DATA.jsonl TOKENIZER_JSON_OR_DIR OUT_DIR --template-source S
         [--max-length N] [--truncation left|right|drop] [--padding none|longest|max-length]
         [--padding-side right|left] [--test-size F] [--seed S] [--no-eos] [--train-on-prompt] [--pad-id ID]
       tools/reference_build.py DATA.jsonl MODEL_DIR OUT_DIR --course --template-source S [--max-length N]
Writes OUT_DIR/{train,test}.jsonl.

--course runs the "Finetuning LLMs" course's own recipe with transformers' AutoTokenizer on the model
folder instead: each row's text (the template filled in) is one `tokenizer(text)` call — the
tokenizer's special tokens included (BOS for Llama / Phi-3) — left-truncated by the tokenizer to
min(length, --max-length) as the course does, labels = input_ids, no split; OUT_DIR/train.jsonl.
"""
import argparse, json, math, os, re
from tokenizers import Tokenizer, models, pre_tokenizers
import datasets

p = argparse.ArgumentParser()
p.add_argument("data"); p.add_argument("tokenizer"); p.add_argument("out")
p.add_argument("--template-source", help="a template; or --alpaca for Stanford Alpaca's two prompts")
p.add_argument("--alpaca", action="store_true")
p.add_argument("--max-length", type=int); p.add_argument("--truncation", default="left")
p.add_argument("--padding", default="none"); p.add_argument("--padding-side", default="right")
p.add_argument("--pad-to-multiple-of", type=int)
p.add_argument("--test-size", type=float, default=0.1); p.add_argument("--seed", type=int, default=123)
p.add_argument("--no-eos", action="store_true"); p.add_argument("--train-on-prompt", action="store_true")
p.add_argument("--pad-id", type=int)
p.add_argument("--course", action="store_true")
a = p.parse_args()


def fill(src, row):
    return src.format(**row) if re.search(r"\{(\w+)\}", src) else src


if a.course:
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(a.tokenizer)
    src = a.template_source.encode().decode("unicode_escape") if "\\n" in a.template_source else a.template_source
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "train.jsonl"), "w") as f:
        for line in open(a.data, encoding="utf-8"):
            if not line.strip():
                continue
            text = fill(src, json.loads(line))
            # The course's tokenize_function, one example at a time.
            tokenizer.pad_token = tokenizer.eos_token
            tokenized = tokenizer(text, return_tensors="np", padding=True)
            max_length = min(tokenized["input_ids"].shape[1], a.max_length or 2048)
            tokenizer.truncation_side = "left"
            tokenized = tokenizer(text, return_tensors="np", truncation=True, max_length=max_length)
            ids = tokenized["input_ids"][0].tolist()
            f.write(json.dumps({"input_ids": ids, "attention_mask": tokenized["attention_mask"][0].tolist(),
                                "labels": ids}) + "\n")
    raise SystemExit(0)

if os.path.isdir(a.tokenizer) and os.path.exists(os.path.join(a.tokenizer, "vocab.json")):
    tok = Tokenizer(models.BPE.from_file(os.path.join(a.tokenizer, "vocab.json"), os.path.join(a.tokenizer, "merges.txt")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
else:
    tok = Tokenizer.from_file(os.path.join(a.tokenizer, "tokenizer.json") if os.path.isdir(a.tokenizer) else a.tokenizer)
vocab = tok.get_vocab(with_added_tokens=True)
eos = next(vocab[t] for t in ["<|endoftext|>", "<|end_of_text|>", "</s>"] if t in vocab)
pad = a.pad_id if a.pad_id is not None else next((vocab[t] for t in ["<|padding|>", "<|pad|>", "<pad>", "[PAD]"] if t in vocab), eos)

ALPACA_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further context. "
                "Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n"
                "### Input:\n{input}\n\n### Response:\n{output}")
ALPACA_NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
                   "request.\n\n### Instruction:\n{instruction}\n\n### Response:\n{output}")


def split_template(src):
    fields = re.findall(r"\{(\w+)\}", src)
    last = src.rfind("{" + fields[-1] + "}")
    return fields, src[:last], src[last:]


if not a.alpaca:
    src = a.template_source.encode().decode("unicode_escape") if "\\n" in a.template_source else a.template_source
    fields, prompt_t, completion_t = split_template(src)

rows = []
for line in open(a.data, encoding="utf-8"):
    if not line.strip():
        continue
    r = json.loads(line)
    if a.alpaca:
        fields, prompt_t, completion_t = split_template(ALPACA_INPUT if r.get("input") else ALPACA_NO_INPUT)
    prompt = prompt_t.format(**r) if fields[:-1] else prompt_t
    completion = completion_t.format(**r)
    p_ids = tok.encode(prompt, add_special_tokens=False).ids if prompt else []
    c_ids = tok.encode(completion, add_special_tokens=False).ids + ([] if a.no_eos else [eos])
    ids = p_ids + c_ids
    masked = 0 if a.train_on_prompt else len(p_ids)
    if a.max_length and len(ids) > a.max_length:
        if a.truncation == "drop":
            continue
        cut = len(ids) - a.max_length
        if a.truncation == "left":
            ids = ids[cut:]; masked = max(0, masked - cut)
        else:
            ids = ids[:a.max_length]; masked = min(masked, a.max_length)
    if len(ids) - masked <= 0:
        continue
    rows.append({"ids": ids, "masked": masked})

width = None
if a.padding == "longest":
    width = max(len(r["ids"]) for r in rows)
elif a.padding == "max-length":
    width = a.max_length
if width and a.pad_to_multiple_of:
    width = math.ceil(width / a.pad_to_multiple_of) * a.pad_to_multiple_of


def finish(r):
    ids, m = r["ids"], r["masked"]
    labels = [-100] * m + ids[m:]
    mask = [1] * len(ids)
    n = (width or len(ids)) - len(ids)
    if a.padding_side == "left":
        return {"input_ids": [pad] * n + ids, "attention_mask": [0] * n + mask, "labels": [-100] * n + labels}
    return {"input_ids": ids + [pad] * n, "attention_mask": mask + [0] * n, "labels": labels + [-100] * n}


ds = datasets.Dataset.from_list([finish(r) for r in rows])
os.makedirs(a.out, exist_ok=True)
if a.test_size > 0:
    split = ds.train_test_split(test_size=a.test_size, shuffle=True, seed=a.seed)
    parts = {"train": split["train"], "test": split["test"]}
else:
    parts = {"train": ds}
for name, d in parts.items():
    with open(os.path.join(a.out, f"{name}.jsonl"), "w") as f:
        for r in d:
            f.write(json.dumps(r) + "\n")
print({k: len(v) for k, v in parts.items()})
