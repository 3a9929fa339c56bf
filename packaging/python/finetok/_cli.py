"""finetok.build / finetok.lengths: the bundled command-line tool with keyword arguments.

Each keyword becomes the option of the same name (`max_length=512` → `--max-length 512`;
`True` → the bare flag; `False` / `None` → left out; a list → comma-separated). finetok itself
checks the options, so an unknown or contradictory one raises FinetokError with its message.
"""
import json
import os
import signal
import subprocess
import sys

from ._errors import FinetokError

_HERE = os.path.dirname(os.path.abspath(__file__))
EXECUTABLE = os.path.join(_HERE, "bin", "finetok")


def executable():
    """The path of the bundled `finetok` binary (what the `finetok` command runs)."""
    if not os.path.exists(EXECUTABLE):
        raise FinetokError(f"finetok's binary is missing ({EXECUTABLE}); reinstall the wheel")
    return EXECUTABLE


def options(kwargs):
    """Keyword arguments → command-line options, in the order given."""
    args = []
    for key, value in kwargs.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return args


def _inputs(inputs):
    if isinstance(inputs, (str, os.PathLike)):
        return [os.fspath(inputs)]
    return [os.fspath(i) for i in inputs]


def run(args):
    """Runs `finetok ARGS...`; returns its standard output, or raises FinetokError with the
    message it wrote to standard error. An interrupt (Ctrl-C, a notebook's stop button) is
    passed on to finetok, which removes its partial output before it exits."""
    with subprocess.Popen([executable()] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as child:
        try:
            out, err = child.communicate()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)
            child.wait()
            raise
    if child.returncode != 0:
        text = err.decode("utf-8", "replace").strip()
        lines = [l[len("finetok: error: "):] if l.startswith("finetok: error: ") else l for l in text.splitlines()]
        raise FinetokError("\n".join(lines) or f"finetok exited with code {child.returncode}", child.returncode)
    return out.decode("utf-8", "replace")


def build(inputs, out, *, quiet=False, **kwargs):
    """Runs `finetok build INPUTS --out OUT` with the options given as keywords and returns the
    build's manifest.json as a dict (for `shard=...`, the shard's shard.json).

        manifest = finetok.build("lamini_docs.jsonl", "out/lamini", vocab="pythia",
                                 template="qa", max_length=512, overwrite=True)
        manifest["splits"]       # {'train': {'rows': 1260}, 'test': {'rows': 140}}

    The summary finetok prints is printed here too, unless `quiet=True`.
    Raises FinetokError with finetok's message (and `exit_code`) when the build fails.
    """
    out = os.fspath(out)
    summary = run(["build"] + _inputs(inputs) + ["--out", out] + options(dict(kwargs, quiet=quiet)))
    if summary and not quiet:
        sys.stdout.write(summary)
    for name in ("manifest.json", "shard.json"):
        path = os.path.join(out, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return json.load(f)
    raise FinetokError(f"{out}: finetok build succeeded but wrote no manifest.json")


def lengths(inputs, **kwargs):
    """Runs `finetok lengths INPUTS --json` with the options given as keywords and returns the
    report as a dict (`examples`, `prompt`, `completion`, `total` with min/max/mean/p50/p90/
    p95/p99, `over_max_length`, `suggested_max_length`, `histogram`, `longest`, ...).

        report = finetok.lengths("lamini_docs.jsonl", vocab="pythia", max_length=256)
        report["total"]["p95"]
    """
    return json.loads(run(["lengths"] + _inputs(inputs) + options(dict(kwargs, json=True))))


def open_dataset(out):
    """The JSONL splits of a build folder as a HF `datasets.DatasetDict` (needs `datasets`)."""
    try:
        import datasets
    except ImportError:
        raise ImportError("open_dataset needs Hugging Face datasets: pip install datasets") from None
    out = os.fspath(out)
    files = {split: os.path.join(out, f"{split}.jsonl") for split in ("train", "test")
             if os.path.exists(os.path.join(out, f"{split}.jsonl"))}
    if not files:
        raise FinetokError(f"{out}: no train.jsonl or test.jsonl (build with the jsonl format, the default)")
    return datasets.load_dataset("json", data_files=files)
