"""What two CPUs give on this machine: finetok with two threads, beside two independent one-thread
finetok processes run at once (issue 12, item 4).

usage: python3 benchmarks/two_cpus.py [--corpus-dir DIR] [--corpus en] [--vocab gpt2] [--mb 8]
                                      [--rounds 11] [--runs 5] [--finetok PATH]

Each round, after waiting for an idle machine:
  1. one process, one thread, pinned to CPU 0 (`finetok bench --threads 1 --runs R --json`: the
     median of R cold passes, each with fresh caches);
  2. two such processes started together, one pinned to CPU 0 and one to CPU 1;
  3. one process with two threads, pinned to CPUs 0-1.
It prints, per round and as medians over the rounds:
  - "independent": 2 x (1)'s seconds / the slower of (2)'s: what the machine gives two streams of
    the same work that share nothing but the hardware (a shared physical core, the L3 cache,
    memory bandwidth, another tenant of the host);
  - "two threads": (1)'s seconds / (3)'s.
When "independent" is well below 2, a two-thread speed-up below 2 measures the machine as much
as finetok. The processes' loads (~0.3 s) also run at the same time, so (2)'s timed passes overlap
only mostly; --runs makes them longer than the load.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from bench_common import ROOT, documents, wait_quiet, write_jsonl

VOCABS = {"gpt2": "gpt2", "cl100k": "cl100k_base", "pythia": "pythia"}


def bench(a, docs_path, cpus, threads):
    """Starts `finetok bench` pinned to `cpus`; returns the process."""
    cmd = [a.finetok, "bench", docs_path, "--vocab", VOCABS[a.vocab], "--threads", str(threads), "--runs", str(a.runs), "--json"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, cpus))


def seconds(p):
    out, err = p.communicate()
    if p.returncode != 0:
        raise SystemExit(f"finetok failed: {err.strip()}")
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus-dir", default=os.environ.get("FINETOK_CORPUS_DIR"),
                   help="the folder holding the corpus (or set FINETOK_CORPUS_DIR)")
    p.add_argument("--corpus", default="en", help="CORPUS.txt in the folder (default en)")
    p.add_argument("--vocab", default="gpt2", choices=sorted(VOCABS))
    p.add_argument("--mb", type=float, default=8, help="the first M million characters, split on blank lines (default 8)")
    p.add_argument("--rounds", type=int, default=11, help="rounds of the three measurements (default 11)")
    p.add_argument("--runs", type=int, default=5, help="timed passes per process; each reports their median (default 5)")
    p.add_argument("--finetok", default=os.path.join(ROOT, ".build", "release", "finetok"))
    a = p.parse_args()
    if not a.corpus_dir:
        p.error("pass --corpus-dir DIR (or set FINETOK_CORPUS_DIR)")
    path = os.path.join(a.corpus_dir, f"{a.corpus}.txt")
    if not os.path.isfile(path):
        p.error(f"no {a.corpus}.txt in {a.corpus_dir}")
    if not os.access(a.finetok, os.X_OK):
        p.error(f"{a.finetok} is not an executable: build it with `swift build -c release` or pass --finetok PATH")
    if (os.cpu_count() or 1) < 2:
        p.error("this machine has one CPU")
    if a.rounds < 1 or a.runs < 1:
        p.error("--rounds and --runs must be at least 1")
    docs, size = documents(path, a.mb)
    independent, threads = [], []
    with tempfile.TemporaryDirectory() as tmp:
        docs_path = os.path.join(tmp, f"{a.corpus}.jsonl")
        write_jsonl(docs, docs_path)
        print(f"{a.corpus} / {a.vocab}: {size / 1e6:.2f} MB, {len(docs)} documents; {a.rounds} rounds of {a.runs} passes a process")
        print("round  busy  one (s)  two at once (s)   two threads (s)  independent  two threads")
        for r in range(a.rounds):
            busy = wait_quiet(30, threshold=0.3)
            one = seconds(bench(a, docs_path, {0}, 1))
            pair = [bench(a, docs_path, {0}, 1), bench(a, docs_path, {1}, 1)]
            both = [seconds(q) for q in pair]
            two = seconds(bench(a, docs_path, {0, 1}, 2))
            independent.append(2 * one / max(both))
            threads.append(one / two)
            print(f"{r + 1:5d}  {busy:4.2f}  {one:7.4f}  {both[0]:.4f} {both[1]:.4f}   {two:15.4f}  {independent[-1]:11.2f}  {threads[-1]:11.2f}",
                  flush=True)
    print(f"\nmedian over {a.rounds} rounds: independent {statistics.median(independent):.2f} "
          f"({min(independent):.2f}-{max(independent):.2f}), two threads {statistics.median(threads):.2f} "
          f"({min(threads):.2f}-{max(threads):.2f})")


if __name__ == "__main__":
    sys.exit(main())
