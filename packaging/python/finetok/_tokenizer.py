"""finetok.Tokenizer: finetok's tokenizer in process, through the C interface (_native.py).

A batch crosses into the library as one bytes object (the texts' UTF-8 back to back) and one
offsets array, and comes back as one uint32 id buffer and one offsets buffer: no Python object
is made per token inside the library, and the GIL is released while it encodes. Lists of ints
are made from the id buffer afterwards (memoryview.tolist); numpy arrays wrap it without a copy.
"""
import ctypes
import json
import os
import weakref
from array import array
from itertools import accumulate

from . import _native
from ._errors import FinetokError

_HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB_DIR = os.path.join(_HERE, "vocab")


def bundled_vocabularies():
    """Names of the vocabularies shipped in the wheel (`Tokenizer("gpt2")`)."""
    if not os.path.isdir(VOCAB_DIR):
        return []
    return sorted(n for n in os.listdir(VOCAB_DIR) if os.path.isdir(os.path.join(VOCAB_DIR, n)))


def resolve_vocab(name):
    """A path as given when it exists, else a bundled vocabulary's folder (as `--vocab`:
    $FINETOK_VOCAB_DIR first, then the wheel's vocab/)."""
    name = os.fspath(name)
    if os.path.exists(name):
        return name
    if "/" not in name:
        roots = []
        env = os.environ.get("FINETOK_VOCAB_DIR")
        if env:
            roots += [env, os.path.join(env, "vocab")]
        roots.append(VOCAB_DIR)
        for root in roots:
            candidate = os.path.join(root, name)
            if os.path.exists(candidate):
                return candidate
    raise FinetokError(f"{name}: no such file or folder (bundled vocabularies: "
                       f"{', '.join(bundled_vocabularies()) or 'none'}; or pass a model folder or a tokenizer file)")


def _utf8(text, index):
    if not isinstance(text, str):
        raise TypeError(f"texts[{index}] is {type(text).__name__}; expected str")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates: each becomes U+FFFD, as tiktoken does.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def _owned(pointer, ctype, count):
    """A ctypes array over a buffer finetok allocated; the buffer is freed with the array."""
    buffer = (ctype * count).from_address(pointer)
    weakref.finalize(buffer, _native.lib().finetok_buffer_free, pointer)
    return buffer


def _default_threads():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class Tokenizer:
    """A BPE tokenizer with exactly the ids of HF `tokenizers` / `tiktoken` / `sentencepiece`.

    `path`: a bundled vocabulary (`"gpt2"`, `"pythia"`, `"dolma2"`, `"cl100k_base"`, `"qwen2"`,
    `"phi3"`), a model folder (tokenizer.json or tokenizer.model with tokenizer_config.json;
    vocab.json + merges.txt; a .tiktoken file) or a tokenizer file — what `finetok --vocab` takes.
    `encoding` names a tiktoken rank file's encoding, `pattern` overrides the split pattern, and
    `allow_special` matches special-token strings in the text for vocab.json + merges.txt and
    tiktoken files (tokenizer.json files always match their added tokens, as HF does).

        tok = finetok.Tokenizer("gpt2")
        tok.encode("Hello world")                       # [15496, 995]
        tok.encode_batch(["Hello", "world"], num_threads=2)

    A Tokenizer may be used from several threads at once, and pickles (by its arguments) for
    multiprocessing.
    """

    def __init__(self, path="gpt2", *, encoding=None, pattern=None, allow_special=False):
        self._args = (os.fspath(path), encoding, pattern, bool(allow_special))
        resolved = resolve_vocab(path)
        lib = _native.lib()
        message = ctypes.c_void_p()
        handle = lib.finetok_tokenizer_load(os.fsencode(resolved), encoding.encode() if encoding else None,
                                            pattern.encode() if pattern else None, int(bool(allow_special)),
                                            ctypes.byref(message))
        if not handle:
            raise FinetokError(_native.take_string(message.value).decode("utf-8", "replace"))
        self._handle = handle
        self._finalizer = weakref.finalize(self, lib.finetok_tokenizer_free, handle)
        info = json.loads(_native.take_string(lib.finetok_tokenizer_info(handle)))
        self.path = resolved
        #: Which file format it was loaded from: "tokenizer.json", "vocab.json+merges.txt",
        #: "tokenizer.model" or "tiktoken".
        self.format = info["format"]
        #: The files it was loaded from.
        self.files = info["paths"]
        #: One past the highest id (model and added tokens).
        self.vocab_size = info["vocab_size"]
        #: Added tokens: dicts with "id", "content" and "special".
        self.added_tokens = info["added_tokens"]
        #: Special tokens by their text: {"<|endoftext|>": 50256, ...}.
        self.special_tokens = {t["content"]: t["id"] for t in self.added_tokens if t["special"]}
        #: The end-of-text id finetok build appends (the model folder's eos_token, else the
        #: first of <|endoftext|>, <|end_of_text|>, </s>, <eos>, <|im_end|>), or None.
        self.eos_token_id = info["eos_token_id"]
        #: The padding id (the config's pad_token, else <|padding|>, <|pad|>, <pad>, [PAD]), or None.
        self.pad_token_id = info["pad_token_id"]

    def __repr__(self):
        return f"finetok.Tokenizer({self._args[0]!r}, format={self.format!r}, vocab_size={self.vocab_size})"

    def __reduce__(self):
        path, encoding, pattern, allow_special = self._args
        return (_rebuild, (path, encoding, pattern, allow_special))

    def close(self):
        """Frees the tokenizer now (otherwise when it is garbage-collected). Not while another
        thread is encoding with it."""
        self._finalizer()

    # -- encoding --------------------------------------------------------------------------

    def _encode_flat(self, texts, num_threads, add_special_tokens):
        """(ids: a ctypes uint32 array over the library's buffer, offsets: a list of len(texts) + 1
        ints, the number of ids)."""
        if not self._finalizer.alive:
            raise ValueError("the tokenizer is closed")
        if isinstance(texts, (str, bytes)):
            raise TypeError("texts must be a list of str (for one text, use encode)")
        if not isinstance(texts, (list, tuple)):
            texts = list(texts)
        try:
            encoded = [t.encode("utf-8") for t in texts]
        except (AttributeError, UnicodeEncodeError):
            encoded = [_utf8(t, k) for k, t in enumerate(texts)]
        threads = _default_threads() if num_threads is None else int(num_threads)
        if threads < 1:
            raise ValueError(f"num_threads must be at least 1; got {num_threads}")
        blob = b"".join(encoded)
        offsets = array("q", accumulate(map(len, encoded), initial=0))
        count = len(encoded)
        del encoded  # the per-text copies go before the encoding starts
        ids_p, id_count, offsets_p = ctypes.c_void_p(), ctypes.c_int64(), ctypes.c_void_p()
        status = _native.lib().finetok_encode_batch(
            self._handle, blob, offsets.buffer_info()[0], count, threads, int(bool(add_special_tokens)),
            ctypes.byref(ids_p), ctypes.byref(id_count), ctypes.byref(offsets_p))
        if status != 0:
            raise FinetokError("finetok_encode_batch refused its arguments (a bug in the finetok package)")
        ids = _owned(ids_p.value, ctypes.c_uint32, max(id_count.value, 1))
        id_offsets = _owned(offsets_p.value, ctypes.c_int64, count + 1)
        return ids, memoryview(id_offsets).cast("B").cast("q").tolist(), id_count.value

    def encode(self, text, *, add_special_tokens=False, numpy=False):
        """The ids of one text: a list of ints, or a numpy uint32 array with `numpy=True`.

        Added tokens are matched as the file's reference does (tokenizer.json: as HF
        `encode(text, add_special_tokens=False)`; tiktoken and vocab.json files: as tiktoken's
        `encode_ordinary` unless `allow_special`). `add_special_tokens=True` puts what
        transformers' tokenizer adds around a text (BOS for Llama, Phi-3, Gemma; nothing for GPT-2).
        """
        if not isinstance(text, str):
            raise TypeError(f"text is {type(text).__name__}; expected str (for many texts, use encode_batch)")
        if numpy:
            return self.encode_batch_flat([text], num_threads=1, add_special_tokens=add_special_tokens)[0]
        ids, offsets, count = self._encode_flat([text], 1, add_special_tokens)
        return memoryview(ids).cast("B").cast("I")[:count].tolist()

    def encode_batch(self, texts, *, num_threads=None, add_special_tokens=False, numpy=False):
        """The ids of each text, encoded on `num_threads` threads (default: all the process may
        use) with the GIL released: a list of lists of ints, or with `numpy=True` a list of
        numpy uint32 arrays (views of one buffer). The result does not depend on `num_threads`.
        """
        if numpy:
            ids, offsets = self.encode_batch_flat(texts, num_threads=num_threads, add_special_tokens=add_special_tokens)
            bounds = offsets.tolist()
            return [ids[a:b] for a, b in zip(bounds, bounds[1:])]
        ids, offsets, count = self._encode_flat(texts, num_threads, add_special_tokens)
        flat = memoryview(ids).cast("B").cast("I")
        return [flat[a:b].tolist() for a, b in zip(offsets, offsets[1:])]

    def encode_batch_flat(self, texts, *, num_threads=None, add_special_tokens=False):
        """All the texts' ids in one numpy uint32 array, and an int64 array of len(texts) + 1
        offsets: text k's ids are `ids[offsets[k]:offsets[k + 1]]`. No copy is made of the
        library's buffer, and no Python object per text or token. Needs numpy.
        """
        import numpy as np
        ids, offsets, count = self._encode_flat(texts, num_threads, add_special_tokens)
        return np.frombuffer(ids, dtype=np.uint32, count=count), np.array(offsets, dtype=np.int64)

    # -- decoding --------------------------------------------------------------------------

    def decode(self, ids, *, skip_special_tokens=False):
        """The text of `ids` (a list, array or numpy array of ints). Bytes that are not valid
        UTF-8 become U+FFFD, as HF `tokenizers` and tiktoken's `decode` give."""
        if not self._finalizer.alive:
            raise ValueError("the tokenizer is closed")
        if hasattr(ids, "dtype") and hasattr(ids, "astype"):  # a numpy array
            if ids.size and (ids.min() < 0 or ids.max() > 0xFFFFFFFF):
                raise ValueError("ids must be non-negative integers below 2**32")
            buffer = ids.astype("uint32").tobytes()
            count = int(ids.size)
        else:
            try:
                packed = array("I", ids)
            except OverflowError:
                raise ValueError("ids must be non-negative integers below 2**32") from None
            buffer, count = packed.tobytes(), len(packed)
        text, length, message = ctypes.c_void_p(), ctypes.c_int64(), ctypes.c_void_p()
        status = _native.lib().finetok_decode(self._handle, buffer, count, int(bool(skip_special_tokens)),
                                              ctypes.byref(text), ctypes.byref(length), ctypes.byref(message))
        if status != 0:
            raise FinetokError(_native.take_string(message.value).decode("utf-8", "replace"))
        return _native.take_string(text.value, length.value).decode("utf-8")


def _rebuild(path, encoding, pattern, allow_special):
    return Tokenizer(path, encoding=encoding, pattern=pattern, allow_special=allow_special)
