#!/usr/bin/env python3
"""Checks finetok on the model folders that cannot be committed (Llama 2 / 3, Gemma 4, ...) against
the shared reference fixtures, and prints the numbers. Not a test: it needs ../shared.

usage: tools/check_models.py [--finetok .build/release/finetok] [--shared ../shared] [--names a,b]

For each folder of SHARED/vocab with a fixture (fixtures/spm/NAME.jsonl from HF tokenizers on
tokenizer.json, fixtures/spm/NAME_sentencepiece.jsonl from sentencepiece on tokenizer.model,
fixtures/models/NAME.jsonl for the byte-level folders):
- encode: `finetok encode --vocab FOLDER-or-FILE FIXTURE.jsonl`, ids compared row by row;
- decode: `finetok decode --vocab ... IDS.jsonl` of the fixture's ids, compared with the reference
  library's decode (tokenizers' `decode(ids)`, sentencepiece's `decode(ids)`), computed here;
- info: `finetok info --vocab FOLDER` must succeed.
Needs: pip install tokenizers sentencepiece
"""
import argparse, json, os, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap.add_argument("--finetok", default=os.path.join(ROOT, ".build", "release", "finetok"))
ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
ap.add_argument("--names", default="")
a = ap.parse_args()

V = os.path.join(a.shared, "vocab")
F = os.path.join(a.shared, "fixtures")
CASES = [  # (name, vocab argument, fixture, reference decoder)
    ("llama2", "llama2", "spm/llama2.jsonl", "hf"), ("llama2", "llama2/tokenizer.model", "spm/llama2_sentencepiece.jsonl", "spm"),
    ("phi3", "phi3", "spm/phi3.jsonl", "hf"), ("phi3", "phi3/tokenizer.model", "spm/phi3_sentencepiece.jsonl", "spm"),
    ("gemma4", "gemma4", "spm/gemma4.jsonl", "hf"), ("gemma4", "gemma4/tokenizer.model", "spm/gemma4_sentencepiece.jsonl", "spm"),
] + [(n, n, f"models/{n}.jsonl", "hf") for n in ["llama3", "qwen1.5", "starcoder2", "deepseek-llm", "falcon", "command-r"]]


def run(args):
    return subprocess.run([a.finetok] + args, capture_output=True, text=True)


def reference_decoder(vocab, kind):
    if kind == "spm":
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=os.path.join(V, vocab))
        return lambda ids: sp.decode(ids)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(V, vocab, "tokenizer.json"))
    return lambda ids: tok.decode(ids, skip_special_tokens=False)


tmp = tempfile.mkdtemp()
failures = 0
for name, vocab, fixture, kind in CASES:
    if a.names and name not in a.names.split(","):
        continue
    path = os.path.join(F, fixture)
    if not os.path.exists(path):
        print(f"{vocab:28} no fixture {fixture}")
        continue
    rows = [json.loads(l) for l in open(path, encoding="utf-8")]
    info = run(["info", "--vocab", os.path.join(V, vocab)])
    enc = run(["encode", "--vocab", os.path.join(V, vocab), path])
    if enc.returncode != 0:
        print(f"{vocab:28} does not load: {enc.stderr.strip()[:300]}")
        failures += 1
        continue
    got = [json.loads(l) for l in enc.stdout.splitlines()]
    same = sum(1 for r, g in zip(rows, got) if r["ids"] == g)
    ids_file = os.path.join(tmp, "ids.jsonl")
    with open(ids_file, "w") as f:
        for r in rows:
            f.write(json.dumps(r["ids"]) + "\n")
    dec = run(["decode", "--vocab", os.path.join(V, vocab), ids_file])
    decoded = [json.loads(l) for l in dec.stdout.splitlines()]
    ref = reference_decoder(vocab, kind)
    same_decode = sum(1 for r, d in zip(rows, decoded) if ref(r["ids"]) == d)
    ok = same == len(rows) and same_decode == len(rows) and info.returncode == 0
    failures += 0 if ok else 1
    print(f"{vocab:28} encode {same}/{len(rows)}  decode {same_decode}/{len(rows)}  info {'ok' if info.returncode == 0 else 'FAILED'}")
    shown = 0
    for r, g in zip(rows, got):
        if r["ids"] != g and shown < 3:
            shown += 1
            print(f"    {json.dumps(r['text'][:80], ensure_ascii=False)}\n      want {r['ids'][:16]}\n      got  {g[:16]}")
sys.exit(1 if failures else 0)
