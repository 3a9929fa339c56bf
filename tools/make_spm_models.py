#!/usr/bin/env python3
"""Small SentencePiece models and SentencePiece-style tokenizer.json files, with reference ids and
decodings from the reference libraries, for Tests/TokenizerTests/Fixtures/spm/.

usage: tools/make_spm_models.py [--shared ../shared]      (run from the repository root)
Needs: pip install sentencepiece protobuf tokenizers transformers

What it writes (everything seeded, so a rerun gives the same files):
- NAME.model: tiny BPE models trained with `sentencepiece` on examples/lamini_docs.jsonl plus a
  few lines of other scripts, with user-defined and control symbols, byte_fallback on/off,
  add_dummy_prefix on/off, remove_extra_whitespaces on/off; `tiny_unused` marks some pieces
  UNUSED (sentencepiece splits them again after merging), `tiny_noescape` turns
  escape_whitespaces off. NAME_sentencepiece.jsonl: rows {"text", "ids", "decoded"} from
  `SentencePieceProcessor.encode(text)` / `.decode(ids)`, then rows {"decode_ids", "decoded"}
  decoding seeded random id lists.
- refuse_nfkc.model (nmt_nfkc normalization), refuse_unigram.model: models finetok refuses.
- hf_NAME.json: tokenizer.json files built around the tiny models' vocabularies and merges
  (transformers' converter) with the pipelines of real files and their variants — Llama 2's
  Prepend + Replace with added tokens of every flag, Metaspace (first / always / never, split),
  Split with a string pattern and each behavior, Strip + Lowercase, fuse_unk off, partial byte
  fallback, continuing_subword_prefix / end_of_word_suffix with no decoder, and a byte-level BPE
  whose ByteLevel step comes before a Split. hf_NAME.jsonl: rows {"text", "ids", "decoded",
  "decoded_skip"} from `tokenizers` (`encode(text, add_special_tokens=False)`, `decode(ids)`,
  `decode(ids, skip_special_tokens=True)`), then {"decode_ids", "decoded", "decoded_skip"} rows.
- phi3.jsonl / phi3_sentencepiece.jsonl: vocab/phi3 on the texts of the shared reference fixture
  (--shared), encoded and decoded the same ways.
In every row, a missing "decoded" means the decoding equals "text", a missing "decoded_skip"
that it equals "decoded"; a null one that the reference library panicked (HF's Strip decoder on
an empty text).
"""
import argparse, copy, json, os, random, shutil, sys, tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers, normalizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures", "spm")

OTHER_LINES = [
    "中文的句子在这里。日本語のテキストも少し。", "naïve café résumé Ærøskøbing", "emoji 👍🏽 ok 🦙 fine",
    "def f(x):\n    return x  + 1\n", "A  B   C\tD", "Ελληνικά και русский текст", "1234567890 3.14159",
]

PIECES = ["▁", "▁▁", "<0x41>", "<s>", "</s>", "<unk>", "<sep>", "<sep><sep>", "[[x]]", "ab c", "<ctrl>", "<|assistant|>",
          "<tag>", "hi there", "word", " ", "  ", "   ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "a", "The", " the", "ing",
          "Lamini", "model", "中文", "𠀀", "🦙", "é", "e\u0301", "ﬁ", "İ", "ΣΑΣ", "0", "123", "\x00", "\x7f", "don't",
          "ÅÅÅ", "\ufeff", "x" * 30, "##", "</w>", "Ġ", "ĠĠ", "HELLO", "  lead", "trail  "]

TRICKY = ["", " ", "  ", "\n", "Hello world", " Hello world", "Hello  world", "Hello world  ", "   ",
          "How can I evaluate the performance of Lamini models?", "<s>Hello</s>", "<|assistant|>\nHi", "x <tag> y",
          "a word here", "sword words", "hi there, hi there", "▁already▁escaped", "tab\tand\nnewline", "中文 and English",
          "🦙🦙🦙", "ab c", "<sep><sep><sep>", "[[x]]]", "\u2581", "a\u2581", "\u2581 \u2581", "  <sep>  x  ", "e\u0301\u0301"]


def seeded_texts(seed, n):
    rng = random.Random(seed)
    texts = list(TRICKY)
    for _ in range(n):
        texts.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 10))))
    return texts


def training_file(tmp):
    lines = []
    for line in open(os.path.join(ROOT, "examples", "lamini_docs.jsonl"), encoding="utf-8"):
        row = json.loads(line)
        lines += [row["question"], row["answer"]]
    lines += OTHER_LINES * 20
    path = os.path.join(tmp, "train.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return path


SPM_MODELS = {
    # name: trainer options
    "tiny_fallback": dict(vocab_size=800, byte_fallback=True, add_dummy_prefix=True, remove_extra_whitespaces=False,
                          user_defined_symbols=["<sep>", "[[x]]", "ab c", "<sep><sep>"], control_symbols=["<ctrl>"]),
    "tiny_unk": dict(vocab_size=500, byte_fallback=False, add_dummy_prefix=False, remove_extra_whitespaces=True,
                     character_coverage=0.98, user_defined_symbols=["<sep>"]),
    "tiny_trim": dict(vocab_size=700, byte_fallback=True, add_dummy_prefix=True, remove_extra_whitespaces=True,
                      split_digits=True),
}


def train(tmp, name, options, rule="identity", model_type="bpe"):
    prefix = os.path.join(tmp, name)
    spm.SentencePieceTrainer.train(input=training_file(tmp), model_prefix=prefix, model_type=model_type,
                                   normalization_rule_name=rule, num_threads=1, minloglevel=2, **options)
    # The trainer records the (temporary) paths it used; drop them so reruns give the same bytes.
    edit(prefix + ".model", prefix + ".model", lambda m: (m.trainer_spec.ClearField("input"), m.trainer_spec.ClearField("model_prefix")))
    return prefix + ".model"


def edit(src, dst, change):
    m = pb.ModelProto()
    m.ParseFromString(open(src, "rb").read())
    change(m)
    with open(dst, "wb") as f:
        f.write(m.SerializeToString())


def mark_unused(m):
    """Every other one of the first 40 normal pieces of three or more characters becomes UNUSED."""
    for p in [q for q in m.pieces if q.type == 1 and len(q.piece) >= 3][:40:2]:
        p.type = 5


def write_jsonl(path, rows):
    """Rows as JSON lines, without the values that repeat another: "decoded" is left out when it
    equals "text", "decoded_skip" when it equals the decoding (the tests read them back so)."""
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            r = dict(r)
            decoded = r.get("decoded")
            if "decoded_skip" in r and r["decoded_skip"] == decoded and decoded is not None:
                del r["decoded_skip"]
            if "text" in r and decoded == r["text"]:
                del r["decoded"]
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def spm_rows(model, texts, seed):
    sp = spm.SentencePieceProcessor(model_file=model)
    rows = []
    for s in texts:
        ids = sp.encode(s)
        rows.append({"text": s, "ids": ids, "decoded": sp.decode(ids)})
    rng = random.Random(seed)
    for _ in range(60):
        ids = [rng.randrange(sp.get_piece_size()) for _ in range(rng.randint(1, 8))]
        rows.append({"decode_ids": ids, "decoded": sp.decode(ids)})
    return rows


def hf_decode(tok, ids, skip):
    """HF's decode, or None where it panics (its Strip decoder indexes an empty token)."""
    try:
        return tok.decode(ids, skip_special_tokens=skip)
    except BaseException:  # pyo3's PanicException derives from BaseException
        return None


def hf_rows(tokenizer_json, texts, seed):
    tok = Tokenizer.from_file(tokenizer_json)
    rows = []
    for s in texts:
        ids = tok.encode(s, add_special_tokens=False).ids
        rows.append({"text": s, "ids": ids, "decoded": hf_decode(tok, ids, False), "decoded_skip": hf_decode(tok, ids, True)})
    rng = random.Random(seed)
    size = tok.get_vocab_size(with_added_tokens=True)
    for _ in range(60):
        ids = [rng.randrange(size) for _ in range(rng.randint(1, 8))]
        rows.append({"decode_ids": ids, "decoded": hf_decode(tok, ids, False), "decoded_skip": hf_decode(tok, ids, True)})
    return rows


def converted(tmp, model):
    """transformers' conversion of a tokenizer.model (vocab, merges by piece score) as a dict."""
    from transformers import LlamaTokenizer
    d = os.path.join(tmp, "convert")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(model, os.path.join(d, "tokenizer.model"))
    t = LlamaTokenizer.from_pretrained(d)
    return json.loads(t.backend_tokenizer.to_str())


def added(i, content, special=True, lstrip=False, rstrip=False, single_word=False, normalized=False):
    return {"id": i, "content": content, "single_word": single_word, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": normalized, "special": special}


def llama_legacy(base):
    """Llama 2 / Phi-3's pipeline, with added tokens of every flag appended after the vocabulary."""
    j = copy.deepcopy(base)
    n = len(j["model"]["vocab"])
    j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                         {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    j["pre_tokenizer"] = None
    j["model"]["unk_token"] = "<unk>"
    j["added_tokens"] = [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>", special=False, rstrip=True),
                         added(n, "<|assistant|>", rstrip=True), added(n + 1, "<tag>", lstrip=True, special=False),
                         added(n + 2, "word", single_word=True, special=False),
                         added(n + 3, "hi there", normalized=True, special=False)]
    j["post_processor"] = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                                    {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    j["decoder"] = {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                                     {"type": "ByteFallback"}, {"type": "Fuse"},
                                                     {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return j


def hf_variants(fallback, unk):
    """name → tokenizer.json dict."""
    v = {}
    v["hf_llama_legacy"] = llama_legacy(fallback)
    v["hf_metaspace_first"] = copy.deepcopy(fallback)  # the converter's own: Metaspace(first, split false)
    for scheme, split in [("always", True), ("never", True), ("first", True)]:
        j = copy.deepcopy(fallback)
        j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split}
        j["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"},
                                                         {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split}]}
        v[f"hf_metaspace_{scheme}_split"] = j
    for behavior, invert in [("Removed", False), ("Isolated", False), ("MergedWithPrevious", False),
                             ("MergedWithNext", False), ("Contiguous", False), ("MergedWithNext", True)]:
        j = copy.deepcopy(fallback)
        j["normalizer"] = {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
        j["pre_tokenizer"] = {"type": "Split", "pattern": {"String": "▁"}, "behavior": behavior, "invert": invert}
        j["decoder"] = {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                                         {"type": "ByteFallback"}, {"type": "Fuse"},
                                                         {"type": "Strip", "content": " ", "start": 0, "stop": 2}]}
        v[f"hf_split_{behavior.lower()}{'_invert' if invert else ''}"] = j
    j = llama_legacy(fallback)
    j["normalizer"]["normalizers"] = [{"type": "Strip", "strip_left": True, "strip_right": True}, {"type": "Lowercase"}] \
        + j["normalizer"]["normalizers"]
    v["hf_strip_lowercase"] = j
    j = copy.deepcopy(unk)
    j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                         {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    j["pre_tokenizer"] = None
    j["model"]["unk_token"] = "<unk>"
    j["model"]["fuse_unk"] = True
    v["hf_unk_fused"] = j
    j = copy.deepcopy(j)
    j["model"]["fuse_unk"] = False
    v["hf_unk_unfused"] = j
    j = llama_legacy(fallback)
    vocab = j["model"]["vocab"]
    for b in ["<0xE4>", "<0xF0>", "<0x9F>"]:  # some characters can no longer fall back: unknown
        vocab["<gone" + b[1:]] = vocab.pop(b)
    v["hf_partial_fallback"] = j
    return v


def canonical(j):
    """Renumbers a trained tokenizer.json deterministically (HF's trainer numbers its alphabet in
    hash order): special tokens, then the other unmerged symbols sorted, then merge results in
    merge order. The merges themselves are deterministic, so the tokenizer is the same."""
    model = j["model"]
    prefix = model.get("continuing_subword_prefix") or ""
    merges = [m.split(" ") if isinstance(m, str) else m for m in model["merges"]]
    results = []
    for a, b in merges:
        r = a + b[len(prefix):]
        if r not in results:
            results.append(r)
    specials = [t["content"] for t in sorted(j["added_tokens"], key=lambda t: t["id"])]
    rest = sorted(t for t in model["vocab"] if t not in specials and t not in results)
    order = specials + rest + [r for r in results if r not in specials]
    vocab = {t: i for i, t in enumerate(order)}
    assert set(vocab) == set(model["vocab"])
    model["vocab"] = vocab
    for t in j["added_tokens"]:
        t["id"] = vocab[t["content"]]
    return j


def affixed_bpe(tmp):
    """A BPE trained by `tokenizers` with continuing_subword_prefix and end_of_word_suffix."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"], continuing_subword_prefix="##",
                                  end_of_word_suffix="</w>", show_progress=False)
    tok.train([training_file(tmp)], trainer)
    return canonical(json.loads(tok.to_str()))


def byte_level_mid(tmp):
    """A byte-level BPE whose ByteLevel step comes before a Split that sees its characters."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
                                                 pre_tokenizers.Split("Ġ", behavior="merged_with_next")])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train([training_file(tmp)], trainer)
    return canonical(json.loads(tok.to_str()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp()
    texts = seeded_texts(11, 170)

    trained = {name: train(tmp, name, opts) for name, opts in SPM_MODELS.items()}
    edit(trained["tiny_fallback"], os.path.join(tmp, "tiny_unused.model"), mark_unused)
    trained["tiny_unused"] = os.path.join(tmp, "tiny_unused.model")
    edit(trained["tiny_unk"], os.path.join(tmp, "tiny_noescape.model"),
         lambda m: setattr(m.normalizer_spec, "escape_whitespaces", False))
    trained["tiny_noescape"] = os.path.join(tmp, "tiny_noescape.model")
    for k, (name, path) in enumerate(sorted(trained.items())):
        shutil.copy(path, os.path.join(OUT, f"{name}.model"))
        write_jsonl(os.path.join(OUT, f"{name}_sentencepiece.jsonl"), spm_rows(path, texts, 100 + k))
        print(name, os.path.getsize(path), "bytes")
    shutil.copy(train(tmp, "refuse_nfkc", dict(vocab_size=300), rule="nmt_nfkc"), os.path.join(OUT, "refuse_nfkc.model"))
    shutil.copy(train(tmp, "refuse_unigram", dict(vocab_size=300), model_type="unigram"), os.path.join(OUT, "refuse_unigram.model"))

    variants = hf_variants(converted(tmp, trained["tiny_fallback"]), converted(tmp, trained["tiny_unk"]))
    variants["hf_affixes"] = affixed_bpe(tmp)
    variants["hf_bytelevel_mid"] = byte_level_mid(tmp)
    for k, (name, j) in enumerate(sorted(variants.items())):
        path = os.path.join(OUT, f"{name}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False)
        write_jsonl(os.path.join(OUT, f"{name}.jsonl"), hf_rows(path, texts, 200 + k))
        print(name, os.path.getsize(path), "bytes")

    fixture = os.path.join(a.shared, "fixtures", "spm", "phi3.jsonl")
    if os.path.exists(fixture):
        phi3_texts = [json.loads(l)["text"] for l in open(fixture, encoding="utf-8")]
        vocab = os.path.join(ROOT, "vocab", "phi3")
        write_jsonl(os.path.join(OUT, "phi3.jsonl"), hf_rows(os.path.join(vocab, "tokenizer.json"), phi3_texts, 300))
        write_jsonl(os.path.join(OUT, "phi3_sentencepiece.jsonl"), spm_rows(os.path.join(vocab, "tokenizer.model"), phi3_texts, 301))
        print("phi3", len(phi3_texts), "texts")
    else:
        print(f"{fixture} not found: phi3 fixtures not regenerated", file=sys.stderr)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
