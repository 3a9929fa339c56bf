#!/usr/bin/env python3
"""finetok on SentencePiece tokenizers against HF tokenizers and the sentencepiece library, side by
side on the same documents, one thread, ids checked equal.

usage: benchmarks/spm_bench.py [--vocab-dir DIR] [--names phi3,llama2,gemma4] [--corpus-dir DIR]
                               [--finetok PATH] [--runs R] [--mb M] [--skip-worst]
needs: pip install tokenizers sentencepiece; finetok built with `swift build -c release`

For each model folder (vocab/phi3 from the repository; llama2, gemma4 from --vocab-dir, as their licences keep them out)
and each corpus (en, code, zh): the first M MB of documents (the text split on "\\n\\n", as
`finetok bench` does), written to a temporary file. Timed, median of R runs:
- HF tokenizers: `Tokenizer.from_file(tokenizer.json).encode(doc, add_special_tokens=False)` for
  each document, compared with `finetok bench --vocab FOLDER` (tokenizer.json);
- sentencepiece: `SentencePieceProcessor(tokenizer.model).encode(doc)` for each document, compared
  with `finetok bench --vocab FOLDER/tokenizer.model`.
Ids are checked equal document by document (`finetok encode` on a JSONL of the documents) before
any timing is printed. Worst cases (--skip-worst to leave out): 1 MB of one letter, of spaces and of
characters the vocabulary does not have (byte fallback), one document each.
"""
import argparse, json, os, random, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser()
p.add_argument("--vocab-dir", default=None, help="a folder of model folders (llama2, gemma4...; default: the repository's vocab/)")
p.add_argument("--names", default="phi3,llama2,gemma4")
p.add_argument("--corpus-dir", default=os.environ.get("FINETOK_CORPUS_DIR"),
               help="the folder holding en.txt, code.txt, zh.txt (or set FINETOK_CORPUS_DIR)")
p.add_argument("--finetok", default=os.path.join(ROOT, ".build", "release", "finetok"))
p.add_argument("--runs", type=int, default=3)
p.add_argument("--mb", type=float, default=5, help="MB of each corpus (HF tokenizers and sentencepiece are slow)")
p.add_argument("--skip-worst", action="store_true")
a = p.parse_args()
if not a.corpus_dir:
    p.error("pass --corpus-dir DIR (or set FINETOK_CORPUS_DIR): the folder holding the benchmark corpora en.txt, code.txt, zh.txt")


def folder(name):
    for base in ([a.vocab_dir] if a.vocab_dir else [os.path.join(ROOT, "vocab")]):
        d = os.path.join(base, name)
        if os.path.isfile(os.path.join(d, "tokenizer.json")):
            return d
    return None


def median_time(fn, runs):
    ts, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def finetok_bench(path, vocab, docs="blank-lines"):
    cmd = [a.finetok, "bench", path, "--vocab", vocab, "--runs", str(a.runs), "--json", "--docs", docs]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])


def finetok_ids(docs, vocab):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d}, ensure_ascii=False) + "\n")
    out = subprocess.run([a.finetok, "encode", "--vocab", vocab, f.name], check=True, capture_output=True, text=True).stdout
    os.unlink(f.name)
    return [json.loads(l) for l in out.splitlines()]


def documents(corpus):
    text = open(os.path.join(a.corpus_dir, f"{corpus}.txt"), encoding="utf-8").read()
    docs, used = [], 0
    for d in text.split("\n\n"):
        if not d:
            continue
        if used > a.mb * 1e6:
            break
        docs.append(d)
        used += len(d.encode())
    return docs, used


def row(cells, widths):
    return "".join(str(c).ljust(w) for c, w in zip(cells, widths))


from tokenizers import Tokenizer  # noqa: E402
import sentencepiece as spm  # noqa: E402

W = [12, 10, 16, 12, 13, 11, 8]
cases = []
for corpus in ["en", "code", "zh"]:
    if os.path.exists(os.path.join(a.corpus_dir, f"{corpus}.txt")):
        cases.append((corpus, *documents(corpus), "blank-lines"))
if not a.skip_worst:
    rnd = random.Random(7)
    for name, s in [("one letter", "a" * 1_000_000), ("spaces", " " * 1_000_000),
                    ("unknown chars", "".join(chr(0x1F300 + rnd.randrange(0x300)) for _ in range(250_000)))]:
        cases.append((name, [s], len(s.encode()), "whole"))

print(row(["corpus", "model", "reference", "ref MB/s", "finetok MB/s", "ids equal", "ratio"], W))
for name in a.names.split(","):
    d = folder(name)
    if d is None:
        print(f"{name}: no model folder found", file=sys.stderr)
        continue
    hf = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "tokenizer.model")) if os.path.exists(os.path.join(d, "tokenizer.model")) else None
    refs = [("HF tokenizers", d, lambda doc: hf.encode(doc, add_special_tokens=False).ids)]
    if sp is not None:
        refs.append(("sentencepiece", os.path.join(d, "tokenizer.model"), lambda doc: sp.encode(doc)))
    for corpus, docs, nbytes, split in cases:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as tmp:
            tmp.write("\n\n".join(docs))
        for ref_name, vocab, encode in refs:
            want = [encode(doc) for doc in docs]
            got = finetok_ids(docs, vocab) if split == "blank-lines" else finetok_ids(docs, vocab)
            equal = sum(1 for x, y in zip(want, got) if x == y)
            t, _ = median_time(lambda: [encode(doc) for doc in docs], a.runs)
            f = finetok_bench(tmp.name, vocab, docs=split)
            ref_mbs = nbytes / 1e6 / t
            print(row([corpus, name, ref_name, f"{ref_mbs:.2f}", f"{f['mb_per_s']:.1f}",
                       "yes" if equal == len(docs) else f"NO {equal}/{len(docs)}", f"{f['mb_per_s'] / ref_mbs:.1f}x"], W), flush=True)
        os.unlink(tmp.name)
