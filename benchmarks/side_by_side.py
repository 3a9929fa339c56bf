#!/usr/bin/env python3
"""finetok side by side with the fastest exact BPE encoders (issue 12's table), from this repository.

usage: benchmarks/side_by_side.py [--corpus-dir DIR] [--rows LIST] [--tools LIST] [--mb M] [--runs R]
                                  [--finetok PATH] [--json FILE]
needs: finetok built with `swift build -c release`; pip install tiktoken tokenizers numpy, and the
       peers to compare with: gigatoken awkward fastokens quicktok-v1 tokie (a missing one is
       reported and skipped). The peers are never a dependency of finetok.

The protocol, per row (corpus / vocabulary / threads):
- documents: the first M million characters (default 8: 8 MB of ASCII text, 8.4 MB of zh.txt,
  as peer_bench.py) of CORPUS.txt split on "\\n\\n", empty ones left out; MB/s counts their bytes;
- every run of every tool is a fresh process (several tools keep caches inside a process, so a
  second pass over the same text is not a fair number): load, one tiny warm-up encode, then one
  timed pass over all documents; finetok times itself (`finetok bench --runs 1 --json`, the
  encoding alone, as the others' timer covers only their encode call);
- before each run the script waits (up to 30 s) for the other load on the machine to fall below
  0.3 CPUs, and reports what it was;
- one thread: every process pinned to CPU 0; N threads: CPUs 0..N-1 (and RAYON_NUM_THREADS=N);
- ids: each tool's ids of every document, hashed, against the reference (tiktoken for gpt2 and
  cl100k, HF tokenizers for pythia's tokenizer.json, computed once, untimed);
- tools run in turn within each round (round-robin), R rounds (default 7); best and median MB/s.
The vocabularies are the repository's (vocab/); tokenizer.json files for gpt2 and cl100k are
derived from them by HF tokenizers for the tools that read only that format.
"""
import argparse, hashlib, json, os, statistics, subprocess, sys, tempfile, time

from bench_common import CL100K_PAT, CL100K_RANKS, ROOT, V, Unavailable, documents, hf_gpt2, tiktoken_encoding, wait_quiet, write_jsonl

ROWS = "en/gpt2/1,en/cl100k/1,code/gpt2/1,code/cl100k/1,zh/gpt2/1,zh/cl100k/1,en/pythia/1,en/gpt2/2"
TOOLS = "tiktoken,gigatoken,fastokens,quicktok,tokie,finetok"
FINETOK_VOCAB = {"gpt2": f"{V}/gpt2", "cl100k": CL100K_RANKS, "pythia": f"{V}/pythia/tokenizer.json"}


# --- tokenizer.json files for the tools that read only that format (made once per vocabulary) ---

def byte_symbols():
    """GPT-2's byte → printable character table (the ByteLevel alphabet of HF tokenizers)."""
    printable = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    table, extra = {b: chr(b) for b in printable}, 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def tokenizer_json(vocab, folder):
    """The path of a tokenizer.json for `vocab`: pythia's own, or one HF tokenizers writes from the
    gpt2 vocab.json + merges.txt, or from cl100k's ranks (merges: each token's splits into two
    tokens, ordered by the token's rank, as transformers' tiktoken converter derives them)."""
    if vocab == "pythia":
        return f"{V}/pythia/tokenizer.json"
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, Regex
    path = os.path.join(folder, f"{vocab}.tokenizer.json")
    if vocab == "gpt2":
        t = hf_gpt2()
    else:
        import tiktoken.load
        ranks = tiktoken.load.load_tiktoken_bpe(CL100K_RANKS)
        sym = byte_symbols()
        text = lambda b: "".join(sym[x] for x in b)
        merges = []
        for token, rank in ranks.items():
            splits = [(token[:i], token[i:]) for i in range(1, len(token)) if token[:i] in ranks and token[i:] in ranks]
            splits.sort(key=lambda s: (ranks[s[0]], ranks[s[1]]))
            merges += [(rank, a, b) for a, b in splits]
        merges.sort(key=lambda m: m[0])
        t = Tokenizer(models.BPE(vocab={text(k): r for k, r in ranks.items()},
                                 merges=[(text(a), text(b)) for _, a, b in merges], ignore_merges=True))
        # Oniguruma reads `{1,3}+` as a nested repeat: the possessive is dropped (same matches here).
        t.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(CL100K_PAT.replace(r"\p{N}{1,3}+", r"\p{N}{1,3}")), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        t.decoder = decoders.ByteLevel()
    t.save(path)
    return path


# --- the tools, inside a worker process: each returns (encode, ids): `encode(docs)` is the timed call
# (the tool's own batch API, its own output type); `ids(out)` turns its output into one id sequence
# a document, after the clock has stopped ---

def load_tool(tool, vocab, threads, files):
    try:
        if tool == "tiktoken":
            enc = tiktoken_encoding(vocab)
            if threads == 1:
                return (lambda docs: [enc.encode_ordinary(d) for d in docs]), list
            return (lambda docs: enc.encode_ordinary_batch(docs, num_threads=threads)), list
        if tool == "hf":
            from tokenizers import Tokenizer
            tok = Tokenizer.from_file(files["json"])
            return (lambda docs: tok.encode_batch(docs, add_special_tokens=False)), (lambda out: [e.ids for e in out])
        if tool == "gigatoken":
            import gigatoken
            tok = gigatoken.Tokenizer.from_tiktoken(CL100K_RANKS) if vocab == "cl100k" else gigatoken.Tokenizer(files["json"])
            import awkward
            return (lambda docs: tok.encode_batch(docs, parallel=threads > 1)), awkward.to_list
        if tool == "fastokens":
            import fastokens, numpy as np
            if vocab == "cl100k":
                tok = fastokens.Tokenizer.from_tiktoken(CL100K_RANKS, pattern=CL100K_PAT, special_tokens={})
            else:
                tok = fastokens.Tokenizer.from_file(files["json"])

            def ids(out):
                flat, offsets = np.frombuffer(out[0], np.uint32), np.frombuffer(out[1], np.uint64)
                return [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
            return (lambda docs: tok.encode_batch_flat(docs, add_special_tokens=False)), ids
        if tool == "quicktok":
            import quicktok
            data = os.path.join(files["folder"], "quicktok")
            os.makedirs(data, exist_ok=True)
            try:
                if vocab == "cl100k":
                    import tiktoken.load
                    from quicktok import _import_core as core
                    core.write_files(data, "cl100k_local", tiktoken.load.load_tiktoken_bpe(CL100K_RANKS), {}, "cl100k", False)
                    core.ensure_tables(data, os.path.join(os.path.dirname(quicktok.__file__), "data"), "cl100k", False)
                    enc = quicktok.Tokenizer("cl100k_local", data)
                else:
                    quicktok.import_tokenizer(files["json"], f"{vocab}_local", data_dir=data)
                    enc = quicktok.get_encoding(f"{vocab}_local", data)
            except Unavailable:
                raise
            except Exception as e:
                raise Unavailable(f"quicktok refused this vocabulary ({' '.join(str(e).split()).split(' — ')[0][:120]})")

            def ids(out):
                flat, offsets = out
                return [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
            return (lambda docs: enc.encode_batch(docs, threads, False)), ids
        if tool == "tokie":
            import tokie
            tok = tokie.Tokenizer.from_json(files["json"])
            return (lambda docs: tok.encode_batch(docs, add_special_tokens=False)), (lambda out: [e.ids for e in out])
    except ImportError as e:
        raise Unavailable(f"not installed ({e.name})")
    raise Unavailable(f"unknown tool {tool}")


def digest(id_lists):
    """One hash of every document's ids (length, then the ids as little-endian uint32)."""
    import numpy as np
    h = hashlib.md5()
    for ids in id_lists:
        a = np.asarray(ids, dtype=np.uint32)
        h.update(len(a).to_bytes(8, "little"))
        h.update(a.astype("<u4").tobytes())
    return h.hexdigest()


def worker(a):
    with open(a.docs, encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f]
    try:
        encode, ids = load_tool(a.worker, a.vocab, a.threads, json.loads(a.files))
        encode(["warm up: lazy tables and thread pools, 123."])
        t0 = time.perf_counter()
        out = encode(docs)
        seconds = time.perf_counter() - t0
        out = ids(out)
        result = {"seconds": seconds, "tokens": int(sum(len(x) for x in out))}
        if a.ids:
            result["digest"] = digest(out)
    except Unavailable as e:
        result = {"unavailable": str(e)}
    print(json.dumps(result), flush=True)


# --- the parent: rows, rounds, idle waits, the tables ---

def run_once(tool, vocab, threads, docs_path, files, a, ids=False):
    cpus = set(range(threads))
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), FASTOKENS_BPE_THREADS=str(threads))
    if tool == "finetok":
        cmd = [a.finetok, "bench", docs_path, "--vocab", FINETOK_VOCAB[vocab], "--threads", str(threads), "--runs", "1", "--json"]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, preexec_fn=lambda: os.sched_setaffinity(0, cpus))
        if p.returncode != 0:
            raise SystemExit(f"finetok failed: {p.stderr.strip()}")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        return {"seconds": r["seconds"], "tokens": r["tokens"]}
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", tool, "--vocab", vocab, "--threads", str(threads),
           "--docs", docs_path, "--files", json.dumps(files)] + (["--ids"] if ids else [])
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    if p.returncode != 0 or not p.stdout.strip():
        return {"unavailable": f"exited {p.returncode}: {p.stderr.strip()[-200:]}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def finetok_digest(vocab, docs_path, a):
    out = subprocess.run([a.finetok, "encode", "--input", docs_path, "--vocab", FINETOK_VOCAB[vocab]],
                         capture_output=True, text=True, check=True).stdout
    return digest(json.loads(line) for line in out.splitlines() if line.strip())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus-dir", default=os.environ.get("FINETOK_CORPUS_DIR"),
                   help="the folder holding en.txt, code.txt, zh.txt (or set FINETOK_CORPUS_DIR)")
    p.add_argument("--rows", default=ROWS, help=f"comma list of CORPUS/VOCAB/THREADS (default: the issue's 8, {ROWS})")
    p.add_argument("--tools", default=TOOLS, help=f"comma list (default {TOOLS}; also hf)")
    p.add_argument("--mb", type=float, default=8, help="the first M million characters of each corpus (default 8)")
    p.add_argument("--runs", type=int, default=7, help="rounds: fresh processes per tool and row (default 7)")
    p.add_argument("--finetok", default=os.path.join(ROOT, ".build", "release", "finetok"))
    p.add_argument("--json", help="also write every run's numbers to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--vocab", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--docs", help=argparse.SUPPRESS)
    p.add_argument("--files", help=argparse.SUPPRESS)
    p.add_argument("--ids", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        return worker(a)
    if not a.corpus_dir:
        p.error("pass --corpus-dir DIR (or set FINETOK_CORPUS_DIR): the folder holding en.txt, code.txt, zh.txt")
    if not os.access(a.finetok, os.X_OK):
        p.error(f"{a.finetok} is not an executable: build it with `swift build -c release` or pass --finetok PATH")
    tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    rows = [tuple(r.split("/")) for r in a.rows.split(",") if r.strip()]
    for corpus, vocab, threads in rows:
        if vocab not in FINETOK_VOCAB or not threads.isdigit():
            p.error(f"--rows: {corpus}/{vocab}/{threads} is not CORPUS/{{gpt2,cl100k,pythia}}/THREADS")
        if int(threads) > (os.cpu_count() or 1):
            p.error(f"--rows: {corpus}/{vocab}/{threads} asks for more threads than this machine's {os.cpu_count()} CPUs")
        if not os.path.isfile(os.path.join(a.corpus_dir, f"{corpus}.txt")):
            p.error(f"--rows: {corpus}/{vocab}/{threads}: no {corpus}.txt in {a.corpus_dir}")
    versions = {}
    for name, module in [("tiktoken", "tiktoken"), ("tokenizers", "tokenizers"), ("gigatoken", "gigatoken"),
                         ("fastokens", "fastokens"), ("quicktok-v1", "quicktok"), ("tokie", "tokie")]:
        try:
            from importlib.metadata import version
            versions[name] = version(name)
        except Exception:
            versions[name] = "not installed"
    record = {"versions": versions, "rows": []}
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        jsons = {}
        for corpus, vocab, threads in rows:
            threads = int(threads)
            docs, size = documents(os.path.join(a.corpus_dir, f"{corpus}.txt"), a.mb)
            docs_path = os.path.join(tmp, f"{corpus}.jsonl")
            write_jsonl(docs, docs_path)
            if vocab not in jsons:
                jsons[vocab] = tokenizer_json(vocab, tmp)
            files = {"json": jsons[vocab], "folder": tmp}
            print(f"\n## {corpus} / {vocab} / {threads} thread(s): {size / 1e6:.2f} MB, {len(docs)} documents", flush=True)
            # Reference ids, untimed: tiktoken for the rank-file vocabularies, HF for tokenizer.json.
            ref_tool = "hf" if vocab == "pythia" else "tiktoken"
            ref = run_once(ref_tool, vocab, 1, docs_path, files, a, ids=True)
            digests = {"finetok": finetok_digest(vocab, docs_path, a)} if "finetok" in tools else {}
            runs = {t: [] for t in tools}
            notes = {}
            for rnd in range(a.runs):
                for t in tools:
                    if t in notes:
                        continue
                    load = wait_quiet(30, threshold=0.3)
                    r = run_once(t, vocab, threads, docs_path, files, a, ids=(rnd == 0 and t != "finetok"))
                    if "unavailable" in r:
                        notes[t] = r["unavailable"]
                        continue
                    if "digest" in r:
                        digests[t] = r["digest"]
                    r["mb_per_s"] = size / 1e6 / r["seconds"]
                    r["other_load"] = load
                    runs[t].append(r)
                    print(f"  round {rnd + 1} {t:10} {r['mb_per_s']:7.1f} MB/s  (other load {load:.2f} CPUs)", flush=True)
            print(f"\n| tool | MB/s best | MB/s median | runs | tokens | ids = {ref_tool} |\n|---|---:|---:|---|---:|---|")
            table = {}
            for t in tools:
                if t in notes:
                    print(f"| {t} | – | – | {notes[t]} | | |")
                    continue
                speeds = [r["mb_per_s"] for r in runs[t]]
                best, median = max(speeds), statistics.median(speeds)
                if "digest" not in ref:
                    same = f"no reference ({ref.get('unavailable', '?')})"
                else:
                    same = "yes" if digests.get(t) == ref["digest"] else ("DIFFERENT" if t in digests else "?")
                table[t] = {"best": best, "median": median, "same_ids": same == "yes"}
                print(f"| {t} | {best:.1f} | {median:.1f} | {' / '.join(f'{s:.1f}' for s in speeds)} | {runs[t][0]['tokens']} | {same} |")
            peers = {t: v for t, v in table.items() if t not in ("finetok", "tiktoken", "hf") and v["same_ids"]}
            if "finetok" in table and peers:
                bp = max(peers, key=lambda t: peers[t]["best"])
                mp = max(peers, key=lambda t: peers[t]["median"])
                summary.append((f"{corpus} / {vocab} / {threads}", table["finetok"], bp, peers[bp]["best"], mp, peers[mp]["median"]))
            record["rows"].append({"row": f"{corpus}/{vocab}/{threads}", "mb": size / 1e6, "documents": len(docs),
                                   "reference_tokens": ref.get("tokens"), "runs": runs, "unavailable": notes, "table": table})
    if summary:
        print("\n## finetok against the best exact peer (a peer with ids different from the reference is left out)\n")
        print("| row | finetok best / median | best peer, best run | best peer, median | ratio best / median |\n|---|---|---|---|---:|")
        for row, f, bp, bb, mp, mm in summary:
            print(f"| {row} | {f['best']:.1f} / {f['median']:.1f} | {bp} {bb:.1f} | {mp} {mm:.1f} | {f['best'] / bb:.2f} / {f['median'] / mm:.2f} |")
    print("\nversions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
