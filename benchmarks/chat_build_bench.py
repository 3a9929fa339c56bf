#!/usr/bin/env python3
"""A chat build against a plain build of the same text (issue 9's "≥ 50% of a plain build's MB/s").

usage: chat_build_bench.py [--finetok .build/release/finetok] [--vocab vocab/phi3]
                           [--conversations FILE] [--mb 20] [--threads 1] [--runs 3]

1. Tiles --conversations (default Tests/JinjaTests/Fixtures/chat/conversations.jsonl: the shared fixture's 200 rows, with
   tools, tool calls, reasoning and odd text) to --mb MB of JSONL.
2. `finetok render --json` renders every row with the --vocab folder's chat template; the rendered
   texts become `{"text": ...}` rows.
3. Times, alternating, `finetok build` of the conversations (render + tokenize + assistant spans +
   labels) and `finetok build --template text --no-eos` of the rendered texts (tokenize only), JSONL
   out, `--test-size 0`, and prints the median wall time and CPU time of each, and the rendered
   text's MB per second: the same bytes reach the tokenizer in both builds.
"""
import argparse, json, os, resource, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--finetok", default=os.path.join(ROOT, ".build", "release", "finetok"))
ap.add_argument("--vocab", default=os.path.join(ROOT, "vocab", "phi3"))
ap.add_argument("--conversations", default=os.path.join(ROOT, "Tests", "JinjaTests", "Fixtures", "chat", "conversations.jsonl"))
ap.add_argument("--mb", type=float, default=20)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--runs", type=int, default=3)
a = ap.parse_args()

work = tempfile.mkdtemp(prefix="finetok-chatbench-")
try:
    rows = [l for l in open(a.conversations, encoding="utf-8") if l.strip()]
    chat = os.path.join(work, "chat.jsonl")
    size = 0
    with open(chat, "w", encoding="utf-8") as f:
        while size < a.mb * 1e6:
            for l in rows:
                f.write(l if l.endswith("\n") else l + "\n")
                size += len(l.encode())
    env = dict(os.environ, SOURCE_DATE_EPOCH="1768435200")
    rendered = subprocess.run([a.finetok, "render", chat, "--vocab", a.vocab, "--json", "--skip-invalid"],
                              check=True, capture_output=True, text=True, env=env).stdout
    plain = os.path.join(work, "plain.jsonl")
    text_bytes = 0
    with open(plain, "w", encoding="utf-8") as f:
        for line in rendered.splitlines():
            r = json.loads(line)
            if "text" in r:
                text_bytes += len(r["text"].encode())
                f.write(json.dumps({"text": r["text"]}, ensure_ascii=False) + "\n")
    common = ["--vocab", a.vocab, "--test-size", "0", "--threads", str(a.threads), "--quiet", "--overwrite"]
    builds = {
        "chat": [a.finetok, "build", chat, "--skip-invalid"] + common,
        "plain": [a.finetok, "build", plain, "--template", "text", "--no-eos"] + common,
    }
    times = {k: [] for k in builds}
    for run in range(a.runs):
        for name, cmd in builds.items():
            out = os.path.join(work, "out-" + name)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd + ["--out", out], check=True, env=env)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            times[name].append((wall, cpu))
            shutil.rmtree(out, ignore_errors=True)
    print(f"{size / 1e6:.1f} MB of conversations ({os.path.basename(a.conversations)} tiled), {text_bytes / 1e6:.1f} MB rendered, "
          f"{os.path.basename(a.vocab.rstrip('/'))}, {a.threads} thread(s), median of {a.runs}")
    med = {}
    for name, ts in times.items():
        wall = statistics.median(t[0] for t in ts)
        cpu = statistics.median(t[1] for t in ts)
        med[name] = (wall, cpu)
        print(f"{name:6} wall {wall:6.2f} s  cpu {cpu:6.2f} s  → {text_bytes / 1e6 / wall:6.1f} MB/s of rendered text (wall), "
              f"{text_bytes / 1e6 / cpu:6.1f} MB per CPU-second   runs: {', '.join(f'{w:.2f}' for w, _ in ts)}")
    print(f"chat / plain: {med['plain'][0] / med['chat'][0]:.0%} (wall), {med['plain'][1] / med['chat'][1]:.0%} (CPU)")
finally:
    shutil.rmtree(work, ignore_errors=True)
