#!/usr/bin/env python3
"""finetok's Python API against tiktoken, HF tokenizers and gigatoken, through Python, on the
same documents, ids checked: the number a Python user sees.

usage: benchmarks/python_bench.py [CORPUS] [--vocab gpt2|cl100k|pythia] [--mb M] [--threads N]
                                  [--runs R] [--tools LIST] [--wheel PATH] [--quiet-wait S]

  CORPUS     en | code | zh ($FINETOK_CORPUS_DIR/NAME.txt) or a path to a UTF-8 text file (default en)
  --wheel    finetok's wheel (default: the newest dist/finetok-*.whl, from packaging/build_wheel.py);
             it is unpacked into a temporary folder and imported from there
  --tools    comma list from: tiktoken, hf, gigatoken, finetok, finetok-numpy, finetok-1by1
             (default: all but finetok-1by1)
needs: the wheel, and pip install tiktoken tokenizers gigatoken awkward numpy

Documents are text[:M*1e6].split("\\n\\n") without empty ones (as the anchor benchmark,
peer_bench.py and `finetok bench`); MB/s counts their UTF-8 bytes. The protocol is peer_bench.py's:
each timed run is a fresh worker process (no tool replays a cache warmed on the same text) that
loads the tokenizer, makes one tiny warm-up call of the same API, then times ONE pass over all
documents with gc disabled; rounds alternate the tools' order; the best of R runs is reported.
With --threads 1 every worker is pinned to one CPU. Before each run the script waits (up to
--quiet-wait s) for the machine to be idle. "MB per CPU-second" divides by the least CPU time a
run took instead of its wall time: on a shared machine it is the steadier number for one thread
(cpu/wall below 1 means the pinned CPU was shared); with several threads it hides the speed-up.

What each tool returns is what its users get: tiktoken and HF lists of ids per document
(HF: Encoding objects), gigatoken an awkward array, finetok lists of ints (`encode_batch`) or one
numpy uint32 buffer + offsets (`encode_batch_flat`, no Python object per token). Every tool's ids,
for every document, are compared with the reference's (tiktoken for gpt2 / cl100k, HF for pythia).
"""
import argparse
import gc
import glob
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

from bench_common import CL100K_RANKS, ROOT, V, Unavailable, documents, hf_gpt2, tiktoken_encoding, wait_quiet

TOOLS = ["tiktoken", "hf", "gigatoken", "finetok", "finetok-numpy", "finetok-1by1"]
DEFAULT_TOOLS = TOOLS[:-1]
FINETOK_VOCAB = {"gpt2": "gpt2", "cl100k": "cl100k_base", "pythia": "pythia"}
RESULT = "PYTHON_BENCH_RESULT "


# -- tools (inside the worker): each returns run(docs) -> out, and per-document id lists of out ------


def tool_tiktoken(vocab, n, tmp):
    enc = tiktoken_encoding(vocab)
    if n == 1:
        return (lambda docs: [enc.encode_ordinary(d) for d in docs]), (lambda out: out), "[enc.encode_ordinary(d) for d in docs]"
    return ((lambda docs: enc.encode_ordinary_batch(docs, num_threads=n)), (lambda out: out),
            f"enc.encode_ordinary_batch(docs, num_threads={n})")


def tool_hf(vocab, n, tmp):
    from tokenizers import Tokenizer
    # cl100k: dolma2's tokenizer.json is cl100k_base in HF form (Split regex + ByteLevel)
    tok = hf_gpt2() if vocab == "gpt2" else Tokenizer.from_file(f"{V}/{'pythia' if vocab == 'pythia' else 'dolma2'}/tokenizer.json")
    return ((lambda docs: tok.encode_batch(docs, add_special_tokens=False)), (lambda out: [e.ids for e in out]),
            f"tok.encode_batch(docs, add_special_tokens=False), RAYON_NUM_THREADS={n}")


def tool_gigatoken(vocab, n, tmp):
    import awkward as ak
    import gigatoken as gt
    if vocab == "cl100k":
        tok = gt.Tokenizer.from_tiktoken(CL100K_RANKS)
    elif vocab == "gpt2":
        path = os.path.join(tmp, "gpt2-tokenizer.json")
        hf_gpt2().save(path)
        tok = gt.Tokenizer(path)
    else:
        tok = gt.Tokenizer(f"{V}/pythia/tokenizer.json")
    par = n > 1
    return ((lambda docs: tok.encode_batch(docs, parallel=par)), (lambda out: ak.to_list(out)),
            f"tok.encode_batch(docs, parallel={par}) -> awkward Array, RAYON_NUM_THREADS={n}")


def tool_finetok(vocab, n, tmp):
    import finetok
    tok = finetok.Tokenizer(FINETOK_VOCAB[vocab])
    return ((lambda docs: tok.encode_batch(docs, num_threads=n)), (lambda out: out),
            f"tok.encode_batch(docs, num_threads={n}) -> list of lists")


def tool_finetok_numpy(vocab, n, tmp):
    import finetok
    tok = finetok.Tokenizer(FINETOK_VOCAB[vocab])

    def lists(out):
        ids, offsets = out
        return [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    return ((lambda docs: tok.encode_batch_flat(docs, num_threads=n)), lists,
            f"tok.encode_batch_flat(docs, num_threads={n}) -> (uint32 ids, int64 offsets)")


def tool_finetok_1by1(vocab, n, tmp):
    import finetok
    tok = finetok.Tokenizer(FINETOK_VOCAB[vocab])
    return (lambda docs: [tok.encode(d) for d in docs]), (lambda out: out), "[tok.encode(d) for d in docs]"


TOOL_FUNCS = {"tiktoken": tool_tiktoken, "hf": tool_hf, "gigatoken": tool_gigatoken, "finetok": tool_finetok,
              "finetok-numpy": tool_finetok_numpy, "finetok-1by1": tool_finetok_1by1}


def worker(a):
    if a.threads == 1:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    with open(os.path.join(a.worker_tmp, "docs.pkl"), "rb") as f:
        docs = pickle.load(f)
    res = {"tool": a.worker}
    try:
        t0 = time.perf_counter()
        run, lists, api = TOOL_FUNCS[a.worker](a.vocab, a.threads, a.worker_tmp)
        run(["hello world"])
        res.update(api=api, load_seconds=time.perf_counter() - t0)
        gc.collect()
        gc.disable()
        c0, t0 = time.process_time(), time.perf_counter()
        out = run(docs)
        t1, c1 = time.perf_counter(), time.process_time()
        gc.enable()
        res.update(status="ok", seconds=t1 - t0, cpu_seconds=c1 - c0)
        if a.worker_ids:
            ids = [list(map(int, x)) for x in lists(out)]
            res["tokens"] = sum(map(len, ids))
            with open(os.path.join(a.worker_tmp, f"{a.worker}.ids.pkl"), "wb") as f:
                pickle.dump(ids, f, protocol=pickle.HIGHEST_PROTOCOL)
    except Unavailable as e:
        res.update(status="unavailable", reason=str(e))
    except Exception as e:
        res.update(status="error", reason=f"{type(e).__name__}: {e}")
    print(RESULT + json.dumps(res), flush=True)


# -- parent ------------------------------------------------------------------------------------------


def unpack_wheel(path, tmp):
    site = os.path.join(tmp, "site")
    with zipfile.ZipFile(path) as z:
        z.extractall(site)
        for info in z.infolist():
            mode = info.external_attr >> 16
            if mode & 0o111:
                os.chmod(os.path.join(site, info.filename), mode & 0o777)
    return site


def run_worker(a, tool, tmp, site, keep_ids):
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads), TOKENIZERS_PARALLELISM="true", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = site + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", tool, "--worker-tmp", tmp, "--vocab", a.vocab,
           "--threads", str(a.threads)] + (["--worker-ids"] if keep_ids else [])
    b0 = time.perf_counter()
    pr = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - b0
    for line in pr.stdout.splitlines()[::-1]:
        if line.startswith(RESULT):
            res = json.loads(line[len(RESULT):])
            res["wall"] = wall
            return res
    return {"tool": tool, "status": "error", "reason": f"exit {pr.returncode}: {pr.stderr.strip()[-300:]}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", nargs="?", default="en")
    ap.add_argument("--vocab", choices=["gpt2", "cl100k", "pythia"], default="gpt2")
    ap.add_argument("--mb", type=float, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS))
    ap.add_argument("--wheel")
    ap.add_argument("--quiet-wait", type=float, default=60)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-tmp", help=argparse.SUPPRESS)
    ap.add_argument("--worker-ids", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a)

    tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    if set(tools) - set(TOOLS):
        ap.error(f"unknown tools: {sorted(set(tools) - set(TOOLS))}")
    wheels = [a.wheel] if a.wheel else sorted(glob.glob(os.path.join(ROOT, "dist", "finetok-*.whl")), key=os.path.getmtime)
    if any(t.startswith("finetok") for t in tools) and not wheels:
        ap.error("no wheel: run python3 packaging/build_wheel.py first, or pass --wheel")
    corpus_dir = os.environ.get("FINETOK_CORPUS_DIR")
    if not os.path.exists(a.corpus) and not corpus_dir:
        ap.error(f"{a.corpus}: not a file; pass a text file, or set FINETOK_CORPUS_DIR to the folder holding en.txt, code.txt, zh.txt")
    corpus = a.corpus if os.path.exists(a.corpus) else os.path.join(corpus_dir, f"{a.corpus}.txt")
    docs, nbytes = documents(corpus, a.mb)
    reference = "hf" if a.vocab == "pythia" else "tiktoken"
    tmp = tempfile.mkdtemp(prefix="python_bench_")
    try:
        with open(os.path.join(tmp, "docs.pkl"), "wb") as f:
            pickle.dump(docs, f, protocol=pickle.HIGHEST_PROTOCOL)
        site = unpack_wheel(wheels[-1], tmp) if wheels else ""
        print(f"# {os.path.basename(corpus)}, first {a.mb:g}M characters: {len(docs)} documents, {nbytes / 1e6:.2f} MB; "
              f"vocab {a.vocab}; {a.threads} thread(s); best of {a.runs} fresh-process runs; reference {reference}; "
              f"wheel {os.path.basename(wheels[-1]) if wheels else '-'}", flush=True)
        results = {t: {"runs": [], "status": None} for t in tools}
        for r in range(a.runs):
            for tool in (tools if r % 2 == 0 else tools[::-1]):
                if results[tool]["status"] not in (None, "ok"):
                    continue
                wait_quiet(a.quiet_wait)
                res = run_worker(a, tool, tmp, site, keep_ids=(r == 0))
                R = results[tool]
                if res["status"] != "ok":
                    R.update(status=res["status"], reason=res.get("reason"))
                    print(f"  round {r + 1} {tool:14s} {res['status']}: {res.get('reason')}", flush=True)
                    continue
                R.update(status="ok", api=res["api"], load=res["load_seconds"])
                if "tokens" in res:
                    R["tokens"] = res["tokens"]
                R["runs"].append((res["seconds"], res["cpu_seconds"]))
                print(f"  round {r + 1} {tool:14s} {nbytes / 1e6 / res['seconds']:8.1f} MB/s  cpu/wall "
                      f"{res['cpu_seconds'] / res['seconds']:.2f}", flush=True)

        def load_ids(tool):
            path = os.path.join(tmp, f"{tool}.ids.pkl")
            if not os.path.exists(path):
                return None
            with open(path, "rb") as f:
                return pickle.load(f)
        ref = load_ids(reference)
        print()
        print(f"## {os.path.basename(corpus)} ({nbytes / 1e6:.2f} MB, {len(docs)} documents) / {a.vocab} / "
              f"{a.threads} thread(s), through Python")
        print()
        print(f"| tool | MB/s (best of {a.runs}) | runs | MB per CPU-second | load s | cpu/wall | tokens | "
              f"ids = {reference} (documents) |")
        print("|---|---:|---|---:|---:|---:|---:|---|")
        for tool in tools:
            R = results[tool]
            if R["status"] != "ok":
                print(f"| {tool} | {R['status']} | | | | | |")
                continue
            best = min(R["runs"])
            got = load_ids(tool)
            if tool == reference:
                check = "(reference)"
            elif ref is None or got is None:
                check = "-"
            else:
                bad = [k for k, (x, y) in enumerate(zip(got, ref)) if x != y]
                check = ("all equal" if not bad and len(got) == len(ref)
                         else f"{len(bad)} of {len(ref)} differ (first: document {bad[0] if bad else len(got)})")
            cpu = min(c for _, c in R["runs"])
            print(f"| {tool} | {nbytes / 1e6 / best[0]:.1f} | {' / '.join(f'{nbytes / 1e6 / s:.1f}' for s, _ in R['runs'])} | "
                  f"{nbytes / 1e6 / cpu:.1f} | {R['load']:.2f} | {best[1] / best[0]:.2f} | {R.get('tokens', '-')} | {check} |")
        print()
        for tool in tools:
            R = results[tool]
            print(f"- {tool}: {R.get('api') or R.get('reason')}")
        from importlib import metadata
        versions = []
        for pkg in ("tiktoken", "tokenizers", "gigatoken"):
            try:
                versions.append(f"{pkg} {metadata.version(pkg)}")
            except metadata.PackageNotFoundError:
                versions.append(f"{pkg} not installed")
        print("- versions: " + ", ".join(versions) + (f", finetok {os.path.basename(wheels[-1])}" if wheels else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
