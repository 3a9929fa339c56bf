"""ctypes bindings to libFinetokC.so, the C interface in Sources/FinetokC/CInterface.swift.

The library is loaded once, on first use (importing finetok stays cheap for the command-line
entry point). ctypes releases the GIL for every call into it.
"""
import ctypes
import os
import threading

_HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = os.path.join(_HERE, "lib", "libFinetokC.so")

_lock = threading.Lock()
_lib = None

_p = ctypes.c_void_p
_i32 = ctypes.c_int32
_i64 = ctypes.c_int64
_message = ctypes.POINTER(ctypes.c_void_p)

_SIGNATURES = {
    # name: (restype, argtypes)
    "finetok_tokenizer_load": (_p, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, _i32, _message]),
    "finetok_tokenizer_free": (None, [_p]),
    "finetok_tokenizer_info": (_p, [_p]),
    "finetok_encode_batch": (_i32, [_p, ctypes.c_char_p, _p, _i64, _i64, _i32,
                                    ctypes.POINTER(_p), ctypes.POINTER(_i64), ctypes.POINTER(_p)]),
    "finetok_decode": (_i32, [_p, _p, _i64, _i32, ctypes.POINTER(_p), ctypes.POINTER(_i64), _message]),
    "finetok_buffer_free": (None, [_p]),
}


def lib():
    """The loaded library, with every function's signature declared."""
    global _lib
    if _lib is None:
        with _lock:
            if _lib is None:
                if not os.path.exists(LIBRARY):
                    raise ImportError(f"finetok's native library is missing ({LIBRARY}); "
                                      "reinstall the wheel (python3 packaging/build_wheel.py builds it)")
                loaded = ctypes.CDLL(LIBRARY)
                for name, (restype, argtypes) in _SIGNATURES.items():
                    f = getattr(loaded, name)
                    f.restype, f.argtypes = restype, argtypes
                _lib = loaded
    return _lib


def take_string(pointer, length=None):
    """The bytes of a buffer finetok returned, then frees it."""
    if not pointer:
        return b""
    try:
        return ctypes.string_at(pointer, length) if length is not None else ctypes.string_at(pointer)
    finally:
        lib().finetok_buffer_free(pointer)
