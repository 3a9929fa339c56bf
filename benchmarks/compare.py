#!/usr/bin/env python3
"""finetok against the anchors (tiktoken, HF tokenizers), side by side on the same documents.

usage: benchmarks/compare.py [--corpus-dir DIR] [--finetok PATH] [--runs R] [--skip-worst] [--skip-hf]
needs: pip install tiktoken tokenizers; finetok built with `swift build -c release`

For each corpus (en, code, zh): documents are the text split on "\\n\\n" without empty ones (as
the anchor benchmark and `finetok bench` do). Each tool encodes every document on one
thread; the table shows MB/s (median of R runs), token totals (which must be equal) and the ratio.
Worst cases: 1 MB of one letter, base64, digits, spaces and random CJK, one document each.
"""
import argparse, json, os, random, statistics, subprocess, tempfile, time

from tokenizers import Tokenizer

from bench_common import ROOT, V, documents, tiktoken_encoding

p = argparse.ArgumentParser()
p.add_argument("--corpus-dir", default=os.environ.get("FINETOK_CORPUS_DIR"),
               help="the folder holding en.txt, code.txt, zh.txt (or set FINETOK_CORPUS_DIR)")
p.add_argument("--finetok", default=os.path.join(ROOT, ".build", "release", "finetok"))
p.add_argument("--runs", type=int, default=3)
p.add_argument("--skip-worst", action="store_true")
p.add_argument("--skip-hf", action="store_true")
p.add_argument("--hf-mb", type=float, default=10, help="HF tokenizers is slow: use the first M MB of each corpus for it")
a = p.parse_args()
if not a.corpus_dir:
    p.error("pass --corpus-dir DIR (or set FINETOK_CORPUS_DIR): the folder holding the benchmark corpora en.txt, code.txt, zh.txt")


def median_time(fn, runs):
    ts, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def finetok_bench(path, vocab, docs="blank-lines"):
    cmd = [a.finetok, "bench", path, "--vocab", vocab, "--runs", str(a.runs), "--json", "--docs", docs]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def row(cells, widths):
    return "".join(str(c).ljust(w) for c, w in zip(cells, widths))


W = [10, 12, 12, 12, 12, 14, 8]
print(row(["corpus", "vocab", "anchor", "anchor MB/s", "finetok MB/s", "tokens equal", "ratio"], W))
for corpus in ["en", "code", "zh"]:
    path = os.path.join(a.corpus_dir, f"{corpus}.txt")
    docs, nbytes = documents(path)
    for vocab, finetok_vocab in [("gpt2", "gpt2"), ("cl100k", "cl100k_base")]:
        enc = tiktoken_encoding(vocab)
        t, n = median_time(lambda: sum(len(enc.encode_ordinary(d)) for d in docs), a.runs)
        f = finetok_bench(path, finetok_vocab)
        print(row([corpus, vocab, "tiktoken", f"{nbytes / 1e6 / t:.1f}", f"{f['mb_per_s']:.1f}",
                   "yes" if f["tokens"] == n else f"NO {f['tokens']} vs {n}", f"{f['mb_per_s'] / (nbytes / 1e6 / t):.1f}x"], W), flush=True)
    if not a.skip_hf:
        # HF on the first --hf-mb MB (as bytes, cut at a document boundary), same file for finetok.
        cut, used = [], 0
        for d in docs:
            if used > a.hf_mb * 1e6:
                break
            cut.append(d)
            used += len(d.encode())
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as tmp:
            tmp.write("\n\n".join(cut))
        for name in ["pythia", "dolma2"]:
            tok = Tokenizer.from_file(f"{V}/{name}/tokenizer.json")
            t, n = median_time(lambda: sum(len(e.ids) for e in (tok.encode(d, add_special_tokens=False) for d in cut)), 1)
            f = finetok_bench(tmp.name, name)
            print(row([corpus, name, "HF tok.", f"{used / 1e6 / t:.2f}", f"{f['mb_per_s']:.1f}",
                       "yes" if f["tokens"] == n else f"NO {f['tokens']} vs {n}", f"{f['mb_per_s'] / (used / 1e6 / t):.0f}x"], W), flush=True)
        os.unlink(tmp.name)

if not a.skip_worst:
    print()
    print(row(["worst case", "vocab", "anchor", "anchor MB/s", "finetok MB/s", "tokens equal", "ratio"], [14] + W[1:]))
    rnd = random.Random(7)
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    cases = {
        "one letter": "a" * 1_000_000,
        "base64": "".join(rnd.choice(b64) for _ in range(1_000_000)),
        "digits": "".join(rnd.choice("0123456789") for _ in range(1_000_000)),
        "spaces": " " * 1_000_000,
        "random CJK": "".join(chr(0x4E00 + rnd.randrange(0x5000)) for _ in range(333_333)),
    }
    for name, s in cases.items():
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as tmp:
            tmp.write(s)
        for vocab, finetok_vocab in [("gpt2", "gpt2"), ("cl100k", "cl100k_base")]:
            enc = tiktoken_encoding(vocab)
            f = finetok_bench(tmp.name, finetok_vocab, docs="whole")
            mb = len(s.encode()) / 1e6
            try:
                t, n = median_time(lambda: len(enc.encode_ordinary(s)), 1)
            except BaseException as e:  # tiktoken's regex can overflow its stack (a pyo3 panic)
                print(row([name, vocab, "tiktoken", "crashed", f"{f['mb_per_s']:.2f}", "-", "-"], [14] + W[1:]) + f"  ({type(e).__name__})", flush=True)
                continue
            print(row([name, vocab, "tiktoken", f"{mb / t:.2f}", f"{f['mb_per_s']:.2f}",
                       "yes" if f["tokens"] == n else f"NO {f['tokens']} vs {n}", f"{f['mb_per_s'] / (mb / t):.1f}x"], [14] + W[1:]), flush=True)
        os.unlink(tmp.name)
