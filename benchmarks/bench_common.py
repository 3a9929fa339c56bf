"""What the Python benchmarks share: a corpus's documents, the repository's vocabularies as
tiktoken and HF tokenizers build them, and the wait for an idle machine (compare.py,
python_bench.py, side_by_side.py, two_cpus.py)."""
import json
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V = os.path.join(ROOT, "vocab")
GPT2_PAT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
CL100K_PAT = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
CL100K_RANKS = f"{V}/cl100k_base/cl100k_base.tiktoken"


def documents(path, mb=None):
    """A corpus file's documents, as `finetok bench` splits a text file: its first `mb` million
    characters (all when None), split on blank lines; and their size in UTF-8 bytes."""
    with open(path, encoding="utf-8") as f:
        text = f.read() if mb is None else f.read(int(mb * 1_000_000))
    docs = [d for d in text.split("\n\n") if d]
    return docs, sum(len(d.encode("utf-8")) for d in docs)


def write_jsonl(docs, path):
    """One `{"text": ...}` row per document: the file the scripts hand to `finetok bench`."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs)


class Unavailable(Exception):
    """A tool that is not installed, or cannot load a vocabulary exactly (reported, then skipped)."""


def tiktoken_encoding(vocab):
    """tiktoken's encoding of the repository's gpt2 (vocab.json + merges.txt) or cl100k ranks, with
    no special tokens (their strings are plain text, as `finetok bench` reads them)."""
    import tiktoken
    import tiktoken.load
    if vocab == "gpt2":
        ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(f"{V}/gpt2/merges.txt", f"{V}/gpt2/vocab.json")
        return tiktoken.Encoding("gpt2", pat_str=GPT2_PAT, mergeable_ranks=ranks, special_tokens={})
    if vocab == "cl100k":
        ranks = tiktoken.load.load_tiktoken_bpe(CL100K_RANKS)
        return tiktoken.Encoding("cl100k_base", pat_str=CL100K_PAT, mergeable_ranks=ranks, special_tokens={})
    raise Unavailable(f"no tiktoken loader for {vocab}'s tokenizer.json (a normalizer and added tokens)")


def hf_gpt2():
    """HF tokenizers' GPT-2 from the repository's vocab.json + merges.txt."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    t = Tokenizer(models.BPE.from_file(f"{V}/gpt2/vocab.json", f"{V}/gpt2/merges.txt"))
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    return t


def busy_cpus(seconds=0.5):
    """CPUs busy on the whole machine over `seconds` (from /proc/stat)."""
    def jiffies():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v[:8]) - v[3] - v[4]
    b0 = jiffies()
    time.sleep(seconds)
    return (jiffies() - b0) / os.sysconf("SC_CLK_TCK") / seconds


def wait_quiet(limit, threshold=0.25):
    """Waits (up to `limit` seconds) for fewer than `threshold` CPUs busy; returns the last reading."""
    t0 = time.perf_counter()
    while True:
        b = busy_cpus()
        if b < threshold or time.perf_counter() - t0 > limit:
            return b
        time.sleep(2)
