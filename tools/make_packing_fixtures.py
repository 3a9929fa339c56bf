#!/usr/bin/env python3
"""Regenerates the packing and pre-training fixtures under Tests/BuilderTests/Fixtures from the
reference implementations:

- TRL's `trl.data_utils.pack_dataset(dataset, N, strategy)` ("bfd" and "wrapped"), run on small
  seeded datasets (`packing/trl_cases.json`) and on two HF reference builds
  (`tools/reference_build.py`) of committed data (`packing/{mini_piqa,lamini}_*`);
- Megatron-Core's `IndexedDatasetBuilder` (megatron/core/datasets/indexed_dataset.py), fed the
  documents' ids + EOS as `tools/preprocess_data.py --append-eod` feeds it, with torch stubbed
  out (the builder only uses numpy) (`pretraining/*.bin`, `*.idx`);
- nanoGPT's flat token file (`np.array(ids, dtype).tofile`), checked equal to the Megatron `.bin`.

Needs: pip install datasets tokenizers tiktoken numpy; pip install --no-deps trl megatron-core.
usage: tools/make_packing_fixtures.py            (run from the repository root)

position_ids are computed from seq_lengths with the formula of TRL's
`DataCollatorForLanguageModeling.get_position_ids_from_packed_seq_lengths` (numpy instead of torch).
A wrapped row has no seq_lengths in TRL; its collator takes it as one sequence, which finetok
writes as seq_lengths = [length] (so position_ids 0..length-1).
"""
import hashlib, importlib.abc, importlib.machinery, importlib.util, json, os, random, subprocess, sys, tempfile, types
from unittest import mock

import numpy as np
import datasets
from trl.data_utils import pack_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FX = os.path.join(ROOT, "Tests", "BuilderTests", "Fixtures")
V = os.path.join(ROOT, "vocab")
datasets.disable_progress_bars()


# --- TRL packing -------------------------------------------------------------------------------

def position_ids(seq_lengths):
    """TRL's get_position_ids_from_packed_seq_lengths for one row, in numpy."""
    lengths = np.array(seq_lengths, dtype=np.int64)
    pos = np.ones(int(lengths.sum()), dtype=np.int64)
    pos[0] = 0
    pos[np.cumsum(lengths[:-1])] = -(lengths[:-1] - 1)
    return np.cumsum(pos).tolist()


def trl_pack(columns, n, strategy):
    """pack_dataset on a Dataset with the given list columns; rows as dicts in finetok's key order."""
    ds = datasets.Dataset.from_dict(columns)
    packed = pack_dataset(ds, n, strategy=strategy)
    rows = []
    for r in packed:
        row = {"input_ids": r["input_ids"], "attention_mask": r["attention_mask"], "labels": r["labels"]}
        # A wrapped row has no seq_lengths: TRL's collator takes it as one sequence
        # (torch.arange positions); finetok writes that as seq_lengths = [length].
        seq_lengths = r["seq_lengths"] if strategy == "bfd" else [len(r["input_ids"])]
        row["position_ids"] = position_ids(seq_lengths)
        row["seq_lengths"] = seq_lengths
        rows.append(row)
    return rows


def seeded_examples(seed, count, max_len, with_empty):
    """Random ids with a labelled suffix or middle range (the rest -100), as finetok's label ranges allow."""
    rnd = random.Random(seed)
    ids, labels = [], []
    for i in range(count):
        n = rnd.randint(0 if with_empty else 1, max_len)
        x = [rnd.randrange(1000) for _ in range(n)]
        a = rnd.randint(0, n)
        b = rnd.randint(a, n) if rnd.random() < 0.3 else n
        ids.append(x)
        labels.append([v if a <= k < b else -100 for k, v in enumerate(x)])
    return ids, labels


def trl_cases():
    cases = []
    specs = [
        # name, seed, count, max example length, N, with empty examples
        ("small", 1, 40, 20, 16, True),
        ("ties_three_batches", 2, 2300, 6, 12, False),   # datasets.map batches of 1000: 1000 + 1000 + 300
        ("truncation", 3, 120, 150, 64, False),          # examples longer than N are cut to their first N
        ("tiny_n", 4, 50, 5, 3, True),
        ("n_one", 5, 20, 3, 1, False),
    ]
    for name, seed, count, max_len, n, empty in specs:
        ids, labels = seeded_examples(seed, count, max_len, empty)
        cols = {"input_ids": ids, "attention_mask": [[1] * len(x) for x in ids], "labels": labels}
        for strategy in ["bfd", "wrapped"]:
            packed = trl_pack(cols, n, strategy)
            # The examples' attention masks are all ones, so the packed ones are too (checked
            # here, not stored).
            for row in packed:
                assert row.pop("attention_mask") == [1] * len(row["input_ids"])
            cases.append({"name": f"{name}_{strategy}", "strategy": strategy, "seq_length": n,
                          "examples": {"input_ids": ids, "labels": labels}, "packed": packed})
    return cases


def reference_split(data, tokenizer, template, extra):
    """tools/reference_build.py (HF tokenizers + datasets) without padding: {split: rows}."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "reference_build.py"), data, tokenizer, out,
                        "--template-source", template] + extra, check=True, stdout=subprocess.DEVNULL)
        parts = {}
        for split in ["train", "test"]:
            path = os.path.join(out, f"{split}.jsonl")
            if os.path.exists(path):
                parts[split] = [json.loads(line) for line in open(path)]
        return parts


def packed_build(parts, n, strategy):
    """TRL on each split of a reference build; the JSONL text finetok writes for it."""
    out = {}
    for split, rows in parts.items():
        cols = {k: [r[k] for r in rows] for k in ["input_ids", "attention_mask", "labels"]}
        out[split] = "".join(json.dumps(r) + "\n" for r in trl_pack(cols, n, strategy))
    return out


def write_packing():
    os.makedirs(os.path.join(FX, "packing"), exist_ok=True)
    with open(os.path.join(FX, "packing", "trl_cases.json"), "w") as f:
        json.dump({"generator": "tools/make_packing_fixtures.py", "cases": trl_cases()}, f, separators=(",", ":"))
        f.write("\n")
    # Build level, small: every packed row of mini_piqa (gpt2, instruction-response).
    piqa = reference_split(os.path.join(FX, "mini_piqa.jsonl"), os.path.join(V, "gpt2"),
                           "### Instruction:\n{instruction}\n\n### Response:\n{response}",
                           ["--max-length", "48", "--truncation", "right", "--test-size", "0.2", "--seed", "3"])
    for strategy in ["bfd", "wrapped"]:
        for split, text in packed_build(piqa, 64, strategy).items():
            open(os.path.join(FX, "packing", f"mini_piqa_{strategy}_64_{split}.jsonl"), "w").write(text)
    # Build level, two map batches (1260 train rows): lamini with pythia, qa, the default split.
    lamini = reference_split(os.path.join(ROOT, "examples", "lamini_docs.jsonl"), os.path.join(V, "pythia"),
                             "### Question:\n{question}\n\n### Answer:\n{answer}", [])
    summary = {}
    for strategy in ["bfd", "wrapped"]:
        for split, text in packed_build(lamini, 512, strategy).items():
            rows = [json.loads(line) for line in text.splitlines()]
            summary[f"{strategy}_{split}"] = {
                "rows": len(rows),
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "row_lengths": [len(r["input_ids"]) for r in rows],
                "seq_lengths": [r["seq_lengths"] for r in rows],
            }
    with open(os.path.join(FX, "packing", "lamini_pythia_512.json"), "w") as f:
        json.dump(summary, f, separators=(",", ":"))
        f.write("\n")


# --- Megatron indexed dataset ------------------------------------------------------------------

class _TorchStub(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Any `torch...` import gets an inert module: the indexed-dataset builder only uses numpy."""
    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        m = mock.MagicMock(name=spec.name)
        m.__path__ = []
        m.__spec__ = spec
        return m

    def exec_module(self, module):
        pass


def megatron_builder():
    """megatron.core.datasets.indexed_dataset, loaded without megatron.core's heavy __init__."""
    finder = _TorchStub()
    sys.meta_path.insert(0, finder)
    base = list(importlib.util.find_spec("megatron").submodule_search_locations)[0]
    for name, sub in [("megatron.core", "core"), ("megatron.core.datasets", "core/datasets")]:
        m = types.ModuleType(name)
        m.__path__ = [os.path.join(base, sub)]
        sys.modules[name] = m
    utils = types.ModuleType("megatron.core.utils")
    utils.log_single_rank = lambda logger, *args, **kwargs: logger.log(*args, **kwargs)
    sys.modules["megatron.core.utils"] = utils
    from megatron.core.datasets import indexed_dataset
    # Leave no torch stub behind: `datasets` changes behaviour when it sees torch imported.
    sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
        del sys.modules[name]
    return indexed_dataset


def corpus_documents(path):
    """Python's split("\\n\\n") on the raw bytes, empty documents dropped (finetok --docs blank-lines)."""
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return [d.decode("utf-8") for d in raw.split(b"\n\n") if d]


def make_corpus():
    """A small corpus from the course data's answers, with the separators' corners."""
    answers = [json.loads(l)["answer"] for l in open(os.path.join(ROOT, "examples", "lamini_docs.jsonl"))][:60]
    seps = ["\n\n", "\n\n\n", "\n\n\n\n", "\r\n\r\n", "\n\n", "\n \n"]
    text = ""
    for i, a in enumerate(answers):
        text += a + seps[i % len(seps)]
    os.makedirs(os.path.join(FX, "pretraining"), exist_ok=True)
    open(os.path.join(FX, "pretraining", "corpus.txt"), "w", newline="").write(text)
    with open(os.path.join(FX, "pretraining", "docs.jsonl"), "w") as f:
        for a in answers[:40]:
            f.write(json.dumps({"text": a}) + "\n")


def tokenizers_by_name():
    import tiktoken, tiktoken.load
    from tokenizers import Tokenizer, models, pre_tokenizers
    gpt2 = Tokenizer(models.BPE.from_file(f"{V}/gpt2/vocab.json", f"{V}/gpt2/merges.txt"))
    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    ranks = tiktoken.load.load_tiktoken_bpe(f"{V}/cl100k_base/cl100k_base.tiktoken")
    pat = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
    specials = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260,
                "<|endofprompt|>": 100276}
    cl100k = tiktoken.Encoding("cl100k_base", pat_str=pat, mergeable_ranks=ranks, special_tokens=specials)
    return {
        # name: (encode, eos id, vocabulary size as Megatron's tokenizer.vocab_size)
        "gpt2": (lambda s: gpt2.encode(s, add_special_tokens=False).ids, 50256, gpt2.get_vocab_size()),
        "cl100k_base": (cl100k.encode_ordinary, 100257, cl100k.n_vocab),
    }


def write_megatron():
    make_corpus()
    idx = megatron_builder()
    out = os.path.join(FX, "pretraining")
    inputs = {
        "corpus": corpus_documents(os.path.join(out, "corpus.txt")),
        "docs": [json.loads(l)["text"] for l in open(os.path.join(out, "docs.jsonl"))],
    }
    manifest = {}
    for tname, (encode, eos, vocab_size) in tokenizers_by_name().items():
        dtype = idx.DType.optimal_dtype(vocab_size)
        for iname, docs in inputs.items():
            encoded = [encode(d) + [eos] for d in docs]     # preprocess_data.py --append-eod
            splits = {"all": {"train": list(range(len(docs)))}}
            s = datasets.Dataset.from_dict({"i": list(range(len(docs)))}).train_test_split(test_size=0.25, shuffle=True, seed=7)
            splits["split"] = {"train": list(s["train"]["i"]), "test": list(s["test"]["i"])}
            for sname, parts in splits.items():
                for split, order in parts.items():
                    prefix = os.path.join(out, f"{iname}_{tname}_{sname}_{split}")
                    b = idx.IndexedDatasetBuilder(prefix + ".bin", dtype=dtype)
                    for k in order:
                        b.add_document(encoded[k], [len(encoded[k])])
                    b.finalize(prefix + ".idx")
                    # nanoGPT's train.bin: the same ids in one flat array (uint16, else 32-bit).
                    flat = np.array([t for k in order for t in encoded[k]], dtype=np.uint16 if dtype == np.uint16 else np.uint32)
                    assert flat.tobytes() == open(prefix + ".bin", "rb").read(), prefix
                    manifest[os.path.basename(prefix)] = {"documents": len(order), "tokens": int(flat.size),
                                                          "dtype": np.dtype(dtype).name}
    with open(os.path.join(out, "README.json"), "w") as f:
        json.dump({"generator": "tools/make_packing_fixtures.py", "vocab_sizes": {k: v[2] for k, v in tokenizers_by_name().items()},
                   "files": manifest}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    write_packing()
    write_megatron()
    print("wrote", os.path.join(FX, "packing"), "and", os.path.join(FX, "pretraining"))
