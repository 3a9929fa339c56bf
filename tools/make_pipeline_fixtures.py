#!/usr/bin/env python3
"""Makes Tests/TokenizerTests/Fixtures/pipelines: small byte-level BPE tokenizer.json files whose
pre-tokenizers are those of real model folders (StarCoder 2, DeepSeek LLM, Falcon, Command R —
copied from ../shared/vocab, pre-tokenizer and normalizer only) or synthetic sequences of the
generic steps (Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit,
Digits, Split with a regex and each behaviour), with a 1,000-token model trained here by HF
tokenizers on 300 KB of the shared corpus; and NAME.jsonl: HF tokenizers' ids for 300 texts
(seeded random mixes of letters, digits, punctuation, spaces, newlines, CJK, emoji, accents,
plus the first lines of the corpus files). Not run by the tests; needs ../shared and
`pip install tokenizers`.

usage: tools/make_pipeline_fixtures.py [--shared ../shared]
"""
import argparse, json, os, random
from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
a = ap.parse_args()
OUT = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures", "pipelines")
os.makedirs(OUT, exist_ok=True)

BL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
def seq(*steps): return {"type": "Sequence", "pretokenizers": list(steps)}
def split(regex, behavior, invert=False): return {"type": "Split", "pattern": {"Regex": regex}, "behavior": behavior, "invert": invert}

def real(name):
    d = json.load(open(os.path.join(a.shared, "vocab", name, "tokenizer.json")))
    return d["pre_tokenizer"], d["normalizer"]

PIPELINES = {name: real(name) for name in ["starcoder2", "deepseek-llm", "falcon", "command-r"]}
PIPELINES.update({
    "punct_merged_ws_next": (seq({"type": "Punctuation", "behavior": "MergedWithPrevious"}, split(r"\s+", "MergedWithNext"), BL), None),
    "whitespace": (seq({"type": "Whitespace"}, BL), None),
    "bert_digits": (seq({"type": "BertPreTokenizer"}, {"type": "Digits", "individual_digits": True}, BL), None),
    "chardelim_whitespacesplit": (seq({"type": "CharDelimiterSplit", "delimiter": "-"}, {"type": "WhitespaceSplit"}, BL), None),
    "regex_contiguous_invert": (seq(split(r"(?i:the|and)\b|\p{N}+", "Contiguous", True), split(r"[\p{P}\p{S}]", "Removed"), BL), None),
    "regex_lookahead_lazy": (seq(split(r"\s+(?!\S)|\s+|\p{L}+?(?=\p{Lu})|\p{L}+|[^\s\p{L}]+", "Isolated"), BL), None),
})

rng = random.Random(20261127)
corpus = ""
for f in ["en.txt", "code.txt", "zh.txt"]:
    with open(os.path.join(a.shared, "corpus", f), encoding="utf-8") as fh:
        corpus += fh.read(100_000)
ALPH = ["a", "b", "Z", "the", "The", "and", "é", "ß", "Ω", "中", "文", "😀", "1", "2", "9", "12", "2024", "٣",
        "²", " ", "  ", "\n", "\r\n", "\t", ".", ",", "-", "--", "!", "?", "'s", "'", "\"", "(", ")", "{", "}",
        "_", "$", "+", "=", "/", "\\", "#", "@", "…", "—", "«", "»", "\u00a0", "\u3000", "ä", "\u0301", "ǅ", "İ"]
texts = [""]
lines = [l for l in corpus.split("\n") if l.strip()]
texts += [l[:300] for l in lines[:60]]
for _ in range(240):
    texts.append("".join(rng.choice(ALPH) for _ in range(rng.randint(1, 40))))

for name, (pre, norm) in PIPELINES.items():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=1000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([corpus[i:i + 2000] for i in range(0, len(corpus), 2000)], tr)
    d = json.loads(tok.to_str())
    d["pre_tokenizer"] = pre
    d["normalizer"] = norm
    s = json.dumps(d, ensure_ascii=False)
    tok = Tokenizer.from_str(s)
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as fh:
        fh.write(s)
    with open(os.path.join(OUT, name + ".jsonl"), "w", encoding="utf-8") as fh:
        for t in texts:
            fh.write(json.dumps({"text": t, "ids": tok.encode(t, add_special_tokens=False).ids}, ensure_ascii=False) + "\n")
    print(name, os.path.getsize(os.path.join(OUT, name + ".json")), "bytes")
