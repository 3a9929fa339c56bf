#!/usr/bin/env python3
"""Chat-template render speed of transformers (the reference finetok's Jinja engine is compared with).

usage: render_bench.py [--chat-dir Tests/JinjaTests/Fixtures] [--templates A.jinja,B.jinja] [--min-time 1.0]

For each template, renders every conversation of CHAT_DIR/chat/conversations.jsonl with
transformers' `render_jinja_template` (single thread, compiled template cached as transformers
caches it; kwargs bos_token <s>, eos_token </s>, date_string "26 Jul 2024", add_generation_prompt
False, strftime_now at SOURCE_DATE_EPOCH 1768435200 as in the fixtures), repeatedly for at least
--min-time seconds, and prints renders per second. A refused
conversation (the template raises) counts as a render. `digest` is FNV-1a 64 over the UTF-8 texts
(each followed by a zero byte), the same digest `finetok-bench --sections render` prints, so the
two outputs can be compared line by line.
"""
import argparse, datetime, glob, json, os, sys, time

import transformers.utils.chat_template_utils as ctu

SOURCE_DATE_EPOCH = 1768435200  # the fixtures' date (2026-01-15), as finetok-bench uses


class FixedDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.fromtimestamp(SOURCE_DATE_EPOCH, tz or datetime.timezone.utc).replace(tzinfo=tz)


ctu.datetime = FixedDatetime  # strftime_now() reads datetime.now()

KWARGS = {"bos_token": "<s>", "eos_token": "</s>", "date_string": "26 Jul 2024"}


def fnv1a(data, h):
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def render_all(template, conversations):
    texts = []
    for c in conversations:
        try:
            out, _ = ctu.render_jinja_template(conversations=[c["messages"]], tools=c.get("tools"),
                                               chat_template=template, **KWARGS)
            texts.append(out[0])
        except Exception:  # noqa: BLE001 - a refusal is a render too
            texts.append(None)
    return texts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chat-dir", default=os.path.join(os.path.dirname(__file__), "..", "Tests/JinjaTests/Fixtures"))
    ap.add_argument("--templates", default="")
    ap.add_argument("--min-time", type=float, default=1.0)
    a = ap.parse_args()
    conversations = [json.loads(line) for line in open(f"{a.chat_dir}/chat/conversations.jsonl", encoding="utf-8")]
    names = a.templates.split(",") if a.templates else sorted(os.path.basename(p) for p in glob.glob(f"{a.chat_dir}/templates/*.jinja"))
    print(f"transformers render_jinja_template · {len(conversations)} conversations · single thread")
    print(f"{'template':58s} {'renders/s':>10s}  digest")
    for name in names:
        template = open(f"{a.chat_dir}/templates/{name}", encoding="utf-8").read()
        texts = render_all(template, conversations)  # warm-up and compile
        digest = 0xCBF29CE484222325
        for t in texts:
            if t is not None:
                digest = fnv1a(t.encode("utf-8") + b"\0", digest)
        runs, start = 0, time.perf_counter()
        while True:
            render_all(template, conversations)
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed >= a.min_time:
                break
        print(f"{name:58s} {runs * len(conversations) / elapsed:10.0f}  {digest:016x}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
