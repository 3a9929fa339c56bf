#!/usr/bin/env python3
"""Regenerates the reference encodings under Tests/TokenizerTests/Fixtures from the reference
implementations (HF `tokenizers`, `tiktoken`). Needs: pip install tokenizers tiktoken.

usage: tools/make_fixtures.py [--check]      (run from the repository root)

- `<name>.jsonl`: the texts of the existing fixture file, re-encoded (gpt2, pythia, dolma2,
  cl100k_base, qwen2, o200k_pattern_cl100k_ranks).
- `stress_<name>.jsonl`: seeded random strings built to hit the split patterns' corners
  (case-folded contractions, combining marks, odd white space, CR/LF runs, digits of other
  scripts, emoji, special-token strings, long runs), encoded the same way.
With --check, prints how many rows differ instead of writing.
"""
import json, os, random, sys
import tiktoken, tiktoken.load
from tokenizers import Tokenizer, models, pre_tokenizers, decoders

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V = os.path.join(ROOT, "vocab")
FX = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures")

CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
QWEN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
O200K = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""", r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""", r"""\s*[\r\n]+""", r"""\s+(?!\S)""", r"""\s+""",
])


def encoders():
    gpt2 = Tokenizer(models.BPE.from_file(f"{V}/gpt2/vocab.json", f"{V}/gpt2/merges.txt"))
    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    gpt2.decoder = decoders.ByteLevel()
    pythia = Tokenizer.from_file(f"{V}/pythia/tokenizer.json")
    dolma2 = Tokenizer.from_file(f"{V}/dolma2/tokenizer.json")
    cl = tiktoken.load.load_tiktoken_bpe(f"{V}/cl100k_base/cl100k_base.tiktoken")
    qw = tiktoken.load.load_tiktoken_bpe(f"{V}/qwen2/qwen.tiktoken")
    cl100k = tiktoken.Encoding("cl100k_base", pat_str=CL100K, mergeable_ranks=cl, special_tokens={})
    qwen2 = tiktoken.Encoding("qwen2", pat_str=QWEN, mergeable_ranks=qw, special_tokens={})
    o200k = tiktoken.Encoding("o200k_cl", pat_str=O200K, mergeable_ranks=cl, special_tokens={})
    hf = lambda t: (lambda s: t.encode(s, add_special_tokens=False).ids)
    return {
        "gpt2": hf(gpt2), "pythia": hf(pythia), "dolma2": hf(dolma2),
        "cl100k_base": cl100k.encode_ordinary, "qwen2": qwen2.encode_ordinary,
        "o200k_pattern_cl100k_ranks": o200k.encode_ordinary,
    }


PIECES = [
    "'s", "'S", "'ſ", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'d", "'D", "'x", "'",
    " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n ", "\u00a0", "\u2028", "\u3000", "\u200b", "\u0085", "\u000b", "\u001f",
    "a", "Z", "hello", "World", "HELLO", "CamelCase", "naïve", "e\u0301", "\u0301", "\u0915\u094d", "İ", "ǅ", "ʰ", "ß", "K", "µ",
    "1", "12", "1234", "٣", "४५", "²", "½", "Ⅻ", "3.14", "1,000",
    ".", ",", "!", "?", "...", "--", "/", "//", "(", ")", "{", "}", "#", "@", "$", "_", "__init__", "<", ">",
    "中文", "日本語", "한국어", "ひらがな", "カタカナ", "👍", "👨\u200d👩\u200d👧", "🇫🇷", "\U0001F600",
    "<|endoftext|>", "<|padding|>", "<|im_start|>", "<|fim_prefix|>",
    "Ελληνικά", "русский", "עברית", "العربية", "हिन्दी", "ไทย",
]


def stress_texts(seed, n):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(1, 12)
        s = "".join(rng.choice(PIECES) for _ in range(k))
        out.append(s)
    # Random code points from assorted blocks.
    for _ in range(n // 2):
        cps = []
        for _ in range(rng.randint(1, 20)):
            block = rng.choice([(0x20, 0x7F), (0xA0, 0x250), (0x300, 0x370), (0x370, 0x530), (0x900, 0x980),
                                (0x1100, 0x1200), (0x2000, 0x2070), (0x3000, 0x3100), (0x4E00, 0x4F00),
                                (0xAC00, 0xAD00), (0xFF00, 0xFFF0), (0x1F300, 0x1F650), (0x10000, 0x10100)])
            cps.append(chr(rng.randrange(*block)))
        out.append("".join(cps))
    # Long runs.
    for ch in ["a", " ", "\n", "1", "!", "é", "中", " a", "ab"]:
        out.append(ch * rng.randint(50, 400))
    # Long combining-mark sequences ("Zalgo" text: NFC must reorder hundreds of marks).
    marks = random.Random(99)
    for n in [5, 40, 300, 600]:
        out.append("x" + "".join(chr(marks.randrange(0x300, 0x370)) for _ in range(n)) + " y")
    return out


def main():
    check = "--check" in sys.argv
    encs = encoders()
    for name, enc in encs.items():
        path = os.path.join(FX, f"{name}.jsonl")
        texts = [json.loads(l)["text"] for l in open(path, encoding="utf-8")]
        rows = [{"text": t, "ids": enc(t)} for t in texts]
        stress = [{"text": t, "ids": enc(t)} for t in stress_texts(1234, 400)]
        for fname, data in ((f"{name}.jsonl", rows), (f"stress_{name}.jsonl", stress)):
            p = os.path.join(FX, fname)
            if check:
                old = [json.loads(l) for l in open(p, encoding="utf-8")] if os.path.exists(p) else []
                diff = sum(1 for a, b in zip(old, data) if a != b) + abs(len(old) - len(data))
                print(f"{fname}: {len(data)} rows, {diff} differ")
            else:
                with open(p, "w", encoding="utf-8") as f:
                    for r in data:
                        f.write(json.dumps(r, ensure_ascii=False) + "\n")
                print(f"wrote {fname}: {len(data)} rows")


if __name__ == "__main__":
    main()


def tiny_added_tokens():
    """A small byte-level BPE (trained here on a few sentences) with added tokens of every flag,
    and HF's encodings of strings that exercise lstrip/rstrip/single_word/normalized matching."""
    from tokenizers import AddedToken, normalizers, trainers
    path = os.path.join(FX, "tiny_added.json")
    if not os.path.exists(path):
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      show_progress=False)
        corpus = ["hello world, the quick brown fox jumps over the lazy dog", "naïve café résumé Straße",
                  "def main():\n    return 42\n", "<mask> tokens and hello there"] * 20
        tok.train_from_iterator(corpus, trainer)
        tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False),
                                AddedToken("<sep>", rstrip=True, normalized=False),
                                AddedToken("<|endoftext|>", normalized=False)])
        tok.add_tokens([AddedToken("hello", single_word=True, normalized=True),
                        AddedToken("e\u0301t\u00e9", normalized=True),
                        AddedToken("  ", normalized=True),
                        AddedToken("ab", single_word=True, lstrip=True, rstrip=True, normalized=False)])
        tok.save(path)
    tok = Tokenizer.from_file(path)
    texts = ["hello world", "sayhello there", "hello_x", "(hello)", "hello", " hello ", "héllo hello2",
             "a <mask> b", "a    <mask>b", "<mask>", "x<sep>   y", "x <sep>\n\ny", "<sep>", "été and \u00e9t\u00e9 and e\u0301te\u0301",
             "a  b   c    d", "ab cab ab_ ab", "  ab  ", "x ab\ty", "<|endoftext|>hello<|endoftext|>", "<mas<mask>k>",
             "hello<mask>hello", "\u3000<mask>\u3000", "ab", "abab ab", "", " ", "<sep><sep> <sep>"]
    with open(os.path.join(FX, "tiny_added.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t, "ids": tok.encode(t, add_special_tokens=False).ids}, ensure_ascii=False) + "\n")
    print("wrote tiny_added.json(l)")


if __name__ == "__main__" and "--check" not in sys.argv:
    tiny_added_tokens()


def tiny_ignore_merges():
    """tiny_added.json without added tokens, with `ignore_merges: true`, two vocabulary entries no
    merge produces ("Ġworldly", "xyz"), and a TemplateProcessing post-processor adding a BOS token;
    HF's ids with and without add_special_tokens."""
    src = json.load(open(os.path.join(FX, "tiny_added.json"), encoding="utf-8"))
    vocab = src["model"]["vocab"]
    n = max(vocab.values()) + 1
    vocab["Ġworldly"] = n
    vocab["xyz"] = n + 1
    vocab["<s>"] = n + 2
    src["model"]["ignore_merges"] = True
    src["added_tokens"] = [{"id": n + 2, "content": "<s>", "single_word": False, "lstrip": False, "rstrip": False,
                            "normalized": False, "special": True}]
    src["post_processor"] = {"type": "TemplateProcessing",
                             "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                             "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"Sequence": {"id": "B", "type_id": 1}}],
                             "special_tokens": {"<s>": {"id": "<s>", "ids": [n + 2], "tokens": ["<s>"]}}}
    path = os.path.join(FX, "tiny_ignore_merges.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(src, f, ensure_ascii=False)
    tok = Tokenizer.from_file(path)
    texts = ["hello worldly world", "xyz xyzxyz axyz", "the quick brown fox", "<s>hello", "worldly", ""]
    with open(os.path.join(FX, "tiny_ignore_merges.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t, "ids": tok.encode(t, add_special_tokens=False).ids,
                                "ids_with_special": tok.encode(t, add_special_tokens=True).ids}, ensure_ascii=False) + "\n")
    print("wrote tiny_ignore_merges.json(l)")


if __name__ == "__main__" and "--check" not in sys.argv:
    tiny_ignore_merges()
