#!/usr/bin/env python3
"""The installed wheel, end to end: run it with the Python of a venv the wheel was installed into.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install --no-index dist/finetok-*.whl
    /tmp/v/bin/python packaging/tests/test_wheel.py

Standard library only (`unittest`); the numpy and datasets checks run when they are installed.
References are the repository's committed fixtures: Tests/TokenizerTests/Fixtures (HF
`tokenizers` / `tiktoken` ids, tools/make_fixtures.py) and Tests/BuilderTests/Fixtures (the
course's pipeline on lamini_docs.jsonl, numpy's split permutations). Closes with a line
`python: N passed, N failed, N skipped`.
"""
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import finetok

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER_FIXTURES = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures")
BUILDER_FIXTURES = os.path.join(ROOT, "Tests", "BuilderTests", "Fixtures")
LAMINI = os.path.join(ROOT, "examples", "lamini_docs.jsonl")
COURSE_TEMPLATE = "### Question:\n{question}\n\n### Answer:{answer}"

try:
    import numpy
except ImportError:
    numpy = None


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def fixture(name):
    """(texts, ids) of a vocabulary's reference encodings and its stress strings."""
    rows = read_jsonl(os.path.join(TOKENIZER_FIXTURES, f"{name}.jsonl"))
    rows += read_jsonl(os.path.join(TOKENIZER_FIXTURES, f"stress_{name}.jsonl"))
    return [r["text"] for r in rows], [r["ids"] for r in rows]


def command(*args):
    """The `finetok` console script the wheel installed beside this Python."""
    script = os.path.join(os.path.dirname(sys.executable), "finetok")
    return subprocess.run([script] + list(args), capture_output=True, text=True, stdin=subprocess.DEVNULL)


class InstalledPackage(unittest.TestCase):
    def test_imported_from_the_installed_wheel(self):
        self.assertTrue(os.path.abspath(finetok.__file__).startswith(os.path.abspath(sys.prefix)), finetok.__file__)
        self.assertEqual(finetok.bundled_vocabularies(), ["cl100k_base", "dolma2", "gpt2", "phi3", "pythia", "qwen2"])
        self.assertNotEqual(finetok.__version__, "unknown")


class CommandLine(unittest.TestCase):
    def test_console_script_runs_the_binary(self):
        r = command("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), f"finetok {finetok.__version__}")

    def test_encode_with_a_bundled_vocabulary(self):
        texts, ids = fixture("pythia")
        k = next(i for i, t in enumerate(texts) if t.strip() and "\n" not in t and not t.startswith("-"))
        r = command("encode", "--vocab", "pythia", "--text", texts[k])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), ids[k])

    def test_errors_and_exit_codes_pass_through(self):
        r = command("encode", "--vocab", "no-such-vocabulary", "--text", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no-such-vocabulary", r.stderr)
        r = command("build", "--no-such-option")
        self.assertEqual(r.returncode, 2)

    def test_python_dash_m(self):
        r = subprocess.run([sys.executable, "-m", "finetok", "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("finetok "))


class TokenizerParity(unittest.TestCase):
    """encode_batch equals the committed HF tokenizers / tiktoken encodings."""

    def check(self, vocab, fixture_name):
        tok = finetok.Tokenizer(vocab)
        texts, want = fixture(fixture_name)
        for threads in (1, 2, 4):
            got = tok.encode_batch(texts, num_threads=threads)
            self.assertEqual(len(got), len(want))
            for k, (g, w) in enumerate(zip(got, want)):
                self.assertEqual(g, w, f"{fixture_name} row {k} ({threads} threads): {texts[k]!r}")
        for k in range(0, len(texts), 7):
            self.assertEqual(tok.encode(texts[k]), want[k], f"{fixture_name} row {k}: {texts[k]!r}")
        if numpy is not None:
            ids, offsets = tok.encode_batch_flat(texts, num_threads=2)
            self.assertEqual(ids.dtype, numpy.uint32)
            self.assertEqual(offsets.tolist()[-1], sum(map(len, want)))
            self.assertEqual(ids.tolist(), [i for row in want for i in row])
            arrays = tok.encode_batch(texts[:50], numpy=True)
            self.assertEqual([a.tolist() for a in arrays], want[:50])
        return tok, texts, want

    def test_gpt2(self):
        tok, texts, want = self.check("gpt2", "gpt2")
        self.assertEqual(tok.vocab_size, 50257)
        self.assertEqual(tok.special_tokens, {"<|endoftext|>": 50256})
        for k in range(0, len(texts), 5):  # byte-level BPE loses nothing
            self.assertEqual(tok.decode(want[k]), texts[k])

    def test_pythia(self):
        tok, _, _ = self.check("pythia", "pythia")
        self.assertEqual(tok.eos_token_id, 0)
        self.assertEqual(tok.pad_token_id, 1)

    def test_cl100k(self):
        tok, texts, want = self.check("cl100k_base", "cl100k_base")
        self.assertEqual(tok.format, "tiktoken")
        for k in range(0, len(texts), 5):
            self.assertEqual(tok.decode(want[k]), texts[k])

    def test_a_model_folder_by_path_and_bos(self):
        tok = finetok.Tokenizer(os.path.join(ROOT, "vocab", "phi3"))
        plain = tok.encode("Hello world")
        self.assertEqual(tok.encode("Hello world", add_special_tokens=True), [1] + plain)
        self.assertEqual(tok.encode_batch(["Hello world"], add_special_tokens=True), [[1] + plain])
        self.assertEqual(tok.special_tokens.get("<|endoftext|>"), 32000)


class TokenizerBehaviour(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = finetok.Tokenizer("gpt2")
        cls.texts, cls.want = fixture("gpt2")

    def test_empty_inputs(self):
        self.assertEqual(self.tok.encode_batch([]), [])
        self.assertEqual(self.tok.encode_batch(["", ""]), [[], []])
        self.assertEqual(self.tok.encode(""), [])
        self.assertEqual(self.tok.decode([]), "")

    def test_lone_surrogates_become_replacement_characters(self):
        # as tiktoken's encode: the text is passed through UTF-16 with "replace"
        self.assertEqual(self.tok.encode("x\udc80y"), self.tok.encode("x\ufffdy"))
        self.assertEqual(self.tok.encode("a\ud83d\ude00b"), self.tok.encode("a\U0001F600b"))

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            self.tok.encode_batch("a string, not a list")
        with self.assertRaisesRegex(TypeError, r"texts\[1\] is int"):
            self.tok.encode_batch(["ok", 3])
        with self.assertRaises(ValueError):
            self.tok.encode_batch(["x"], num_threads=0)
        with self.assertRaises(ValueError):
            self.tok.decode([-1])
        with self.assertRaisesRegex(finetok.FinetokError, "unknown token id 50257"):
            self.tok.decode([15496, 50257])

    def test_load_errors_carry_finetoks_message(self):
        with self.assertRaisesRegex(finetok.FinetokError, "no such file or folder"):
            finetok.Tokenizer("no-such-vocabulary")
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "tokenizer.json")
            with open(bad, "w") as f:
                f.write('{"model": {"type": "BPE", "vocab": [1, 2]}')
            with self.assertRaisesRegex(finetok.FinetokError, r"tokenizer\.json:1:"):
                finetok.Tokenizer(bad)

    def test_threads_share_one_tokenizer(self):
        results, errors = {}, []

        def work(k):
            try:
                results[k] = self.tok.encode_batch(self.texts, num_threads=2)
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        for k in range(4):
            self.assertEqual(results[k], self.want)

    def test_pickles_by_its_arguments(self):
        copy = pickle.loads(pickle.dumps(self.tok))
        self.assertEqual(copy.encode_batch(self.texts[:40]), self.want[:40])

    def test_decode_takes_numpy(self):
        if numpy is None:
            self.skipTest("numpy is not installed")
        self.assertEqual(self.tok.decode(numpy.array([15496, 995], dtype=numpy.int64)), "Hello world")


class Build(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.out = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def course_template(self):
        path = os.path.join(self.out, "course.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(COURSE_TEMPLATE)
        return path

    def test_reproduces_the_course_split(self):
        """The course's pipeline (pythia, its template, no masking, no EOS, left truncation to
        2048) with its split (test_size 0.1, seed 123): every row's ids are the course's, and
        train/test hold the rows of HF datasets' train_test_split, in its order."""
        out = os.path.join(self.out, "course")
        manifest = finetok.build(LAMINI, out, vocab="pythia", template_file=self.course_template(),
                                 train_on_prompt=True, no_eos=True, max_length=2048, quiet=True)
        self.assertEqual(manifest["splits"], {"train": {"rows": 1260}, "test": {"rows": 140}})
        course = [r["input_ids"] for r in read_jsonl(os.path.join(BUILDER_FIXTURES, "lamini_docs_pythia_course.jsonl"))]
        with open(os.path.join(BUILDER_FIXTURES, "split_permutations.json")) as f:
            cases = json.load(f)["cases"]
        perm = next(c["permutation"] for c in cases if c["n"] == 1400 and c["seed"] == 123)
        test, train = perm[:140], perm[140:]
        for split, order in (("train", train), ("test", test)):
            rows = read_jsonl(os.path.join(out, f"{split}.jsonl"))
            self.assertEqual(len(rows), len(order))
            for k, (row, source) in enumerate(zip(rows, order)):
                self.assertEqual(row["input_ids"], course[source], f"{split} row {k} (input row {source})")
                self.assertEqual(row["labels"], row["input_ids"])
                self.assertEqual(row["attention_mask"], [1] * len(row["input_ids"]))

    def test_keywords_become_options_and_lengths_agree(self):
        out = os.path.join(self.out, "qa")
        manifest = finetok.build(LAMINI, out, vocab="pythia", template="qa", max_length=512,
                                 format=["jsonl", "npy"], padding="longest", quiet=True)
        self.assertEqual(manifest["settings"]["formats"], ["jsonl", "npy"])
        self.assertEqual(manifest["settings"]["max_length"], 512)
        self.assertTrue(os.path.exists(os.path.join(out, "train_input_ids.npy")))
        report = finetok.lengths(LAMINI, vocab="pythia", template="qa", max_length=512)
        self.assertEqual(report["examples"], 1400)
        self.assertEqual(report["total"]["max"], manifest["lengths"]["max"])
        again = finetok.build(LAMINI, out, vocab="pythia", template="qa", max_length=512,
                              format=["jsonl", "npy"], padding="longest", quiet=True, overwrite=True)
        self.assertEqual(again, manifest)

    def test_errors_raise_with_finetoks_message(self):
        bad = os.path.join(self.out, "bad.jsonl")
        with open(bad, "w") as f:
            f.write('{"question": "q", "answer": "a"}\n{"question": "q2"}\n')
        with self.assertRaises(finetok.FinetokError) as e:
            finetok.build(bad, os.path.join(self.out, "b"), template="qa", quiet=True)
        self.assertEqual(e.exception.exit_code, 1)
        self.assertIn("bad.jsonl:2", str(e.exception))
        with self.assertRaises(finetok.FinetokError) as e:
            finetok.build(LAMINI, os.path.join(self.out, "c"), no_such_option=3, quiet=True)
        self.assertEqual(e.exception.exit_code, 2)
        self.assertIn("--no-such-option", str(e.exception))

    def test_an_interrupt_stops_the_build_and_leaves_nothing(self):
        """Ctrl-C in Python reaches finetok, which removes its partial output. The input is a
        FIFO held open, so the build is still reading when the interrupt comes."""
        fifo = os.path.join(self.out, "rows.jsonl")
        os.mkfifo(fifo)
        out = os.path.join(self.out, "interrupted")
        release = threading.Event()

        def feed():
            with open(fifo, "w") as f, open(LAMINI) as rows:
                f.write(rows.read())
                f.flush()
                release.wait(30)
        writer = threading.Thread(target=feed)
        writer.start()

        def interrupt(signum, frame):
            raise KeyboardInterrupt
        previous = signal.signal(signal.SIGALRM, interrupt)
        try:
            signal.setitimer(signal.ITIMER_REAL, 1.0)
            with self.assertRaises(KeyboardInterrupt):
                finetok.build(fifo, out, template="qa", quiet=True)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            release.set()
            writer.join()
        self.assertEqual(os.listdir(out) if os.path.exists(out) else [], [])

    def test_open_dataset(self):
        try:
            import datasets  # noqa: F401
        except ImportError:
            self.skipTest("datasets is not installed")
        out = os.path.join(self.out, "ds")
        finetok.build(LAMINI, out, vocab="pythia", template="qa", quiet=True)
        ds = finetok.open_dataset(out)
        self.assertEqual((ds["train"].num_rows, ds["test"].num_rows), (1260, 140))


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    print(f"python: {result.testsRun - failed - skipped} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed or result.testsRun == 0 else 0)
