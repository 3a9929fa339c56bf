"""finetok: train-ready token arrays for fine-tuning, with exactly the ids of HF `tokenizers`,
`tiktoken` and `sentencepiece`.

    import finetok

    tok = finetok.Tokenizer("pythia")                     # bundled, a model folder or a file
    tok.encode_batch(["Hello world", "Bonjour"], num_threads=2)

    manifest = finetok.build("lamini_docs.jsonl", "out/lamini", vocab="pythia", template="qa",
                             max_length=512, overwrite=True)
    ds = finetok.open_dataset("out/lamini")              # a datasets.DatasetDict

The wheel carries the `finetok` command-line tool (built with the Swift runtime linked in) and
libFinetokC.so, which `Tokenizer` calls through ctypes; nothing else is needed at run time.
numpy (for numpy outputs) and datasets (for `open_dataset`) are optional.
"""
from ._cli import build, executable, lengths, open_dataset, run
from ._errors import FinetokError
from ._tokenizer import Tokenizer, bundled_vocabularies

__all__ = ["Tokenizer", "FinetokError", "build", "lengths", "open_dataset", "run", "executable",
           "bundled_vocabularies", "__version__"]


def __getattr__(name):
    # Looked up on first use: importing importlib.metadata would slow down every `finetok` command.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("finetok")
        except PackageNotFoundError:
            return "unknown"
    raise AttributeError(f"module 'finetok' has no attribute {name!r}")
