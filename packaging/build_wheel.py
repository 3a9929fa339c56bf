#!/usr/bin/env python3
"""Builds finetok's Python wheel: the `finetok` binary and libFinetokC.so with the Swift runtime
linked in, the bundled vocabularies and the `finetok` Python package.

usage: python3 packaging/build_wheel.py [--out DIR] [--skip-build] [--scratch-path DIR]

Standard library only (zipfile, hashlib); needs the Swift toolchain and binutils (objdump,
strip). Steps:

1. `swift build -c release --static-swift-stdlib --product finetok` — the command-line tool.
2. `swift build -c release --static-swift-stdlib --target FinetokC`, then the link of
   libFinetokC.so by hand: `swiftc -emit-library -static-stdlib` over the objects of FinetokC
   and the targets it depends on (`swift package describe`). SwiftPM links a `.dynamic` library product against the toolchain's shared
   runtime even with --static-swift-stdlib (and then fails: the objects were compiled for the
   static one), so the wheel's library is linked here, with the runtime and Foundation inside and
   only the `finetok_*` functions exported (a version script): a second Swift runtime elsewhere
   in the Python process cannot clash with it.
3. Strip both, check that they need nothing beyond glibc, libstdc++ and libgcc_s, and take the
   wheel's platform tag from the highest GLIBC_ symbol version they use (`objdump -T`):
   manylinux_2_<that>_x86_64.
4. Write dist/finetok-<version>-py3-none-<tag>.whl: the package from packaging/python/finetok,
   bin/finetok, lib/libFinetokC.so, vocab/ (the repository's bundled vocabularies), and the
   .dist-info (METADATA, WHEEL, entry_points.txt with the `finetok` console script, RECORD with
   SHA-256 hashes). Entries are sorted and dated 1980-01-01, so the same inputs give the same file.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "packaging", "python", "finetok")
VOCAB = os.path.join(ROOT, "vocab")
README = os.path.join(ROOT, "packaging", "README.md")

# What a manylinux binary may need from the system (PEP 600 / auditwheel's policy list).
ALLOWED_LIBRARIES = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libutil.so.1",
                     "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2"}
EXPORTS = "{\n  global: finetok_*;\n  local: *;\n};\n"


def say(message):
    print(f"build_wheel: {message}", flush=True)


def run(cmd, quiet_warnings=False, show=None):
    """Runs `cmd` in the repository; exits with its output when it fails."""
    say("$ " + (show or " ".join(cmd)))
    if not quiet_warnings:
        return subprocess.run(cmd, check=True, cwd=ROOT)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"build_wheel: failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def swift_build(scratch):
    common = ["swift", "build", "-c", "release", "--static-swift-stdlib"] + (["--scratch-path", scratch] if scratch else [])
    t0 = time.perf_counter()
    run(common + ["--product", "finetok"])
    run(common + ["--target", "FinetokC"])
    say(f"swift build: {time.perf_counter() - t0:.0f} s")
    return subprocess.run(common + ["--show-bin-path"], check=True, cwd=ROOT, capture_output=True, text=True).stdout.strip()


def library_targets():
    """FinetokC and every target it depends on, from `swift package describe`."""
    described = subprocess.run(["swift", "package", "describe", "--type", "json"], check=True, cwd=ROOT,
                               capture_output=True, text=True).stdout
    targets = {t["name"]: t.get("target_dependencies") or [] for t in json.loads(described)["targets"]}
    needed, todo = [], ["FinetokC"]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.append(name)
            todo += targets.get(name, [])
    return needed


def link_library(bin_path, out):
    """libFinetokC.so from the release objects, the Swift runtime and Foundation linked in."""
    targets = library_targets()
    objects = []
    for target in targets:
        folder = os.path.join(bin_path, f"{target}.build")
        found = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".o")) if os.path.isdir(folder) else []
        if not found:
            sys.exit(f"build_wheel: no object files in {folder}; run without --skip-build")
        objects += found
    with tempfile.NamedTemporaryFile("w", suffix=".map", delete=False) as f:
        f.write(EXPORTS)
        exports = f.name
    try:
        # -soname: else the version script's base version is named after the (temporary) output
        # path, and the same objects would not give the same file.
        flags = ["-Xlinker", "--gc-sections", "-Xlinker", f"--version-script={exports}",
                 "-Xlinker", "-soname=libFinetokC.so"]
        # quiet: the static Foundation's own linker warning (its use of mktemp) is not ours.
        run(["swiftc", "-emit-library", "-static-stdlib", "-o", out] + objects + flags, quiet_warnings=True,
            show=f"swiftc -emit-library -static-stdlib -o {out} [{len(objects)} objects of {', '.join(targets)}] "
                 + " ".join(flags))
    finally:
        os.unlink(exports)


def elf_facts(path):
    """(needed libraries, highest GLIBC_ minor version, highest GLIBCXX_ version) of an ELF file."""
    private = subprocess.run(["objdump", "-p", path], check=True, capture_output=True, text=True).stdout
    needed = re.findall(r"^\s*NEEDED\s+(\S+)", private, re.M)
    symbols = subprocess.run(["objdump", "-T", path], check=True, capture_output=True, text=True).stdout
    glibc = max((tuple(map(int, v.split("."))) for v in re.findall(r"\bGLIBC_([0-9.]+)\)?", symbols)), default=(2, 17))
    glibcxx = max((tuple(map(int, v.split("."))) for v in re.findall(r"\bGLIBCXX_([0-9.]+)", symbols)), default=None)
    return needed, glibc, glibcxx


def check_binaries(paths):
    """The manylinux tag the files allow; exits when one needs a library outside the policy."""
    floor = (2, 17)
    for path in paths:
        needed, glibc, glibcxx = elf_facts(path)
        extra = [n for n in needed if n not in ALLOWED_LIBRARIES]
        if extra:
            sys.exit(f"build_wheel: {path} needs {', '.join(extra)}: not linked statically, the wheel would not run "
                     "without the Swift toolchain")
        cxx = ".".join(map(str, glibcxx)) if glibcxx else "none"
        say(f"{os.path.basename(path)}: {os.path.getsize(path) / 1e6:.1f} MB, needs {', '.join(needed)}; "
            f"highest GLIBC_{'.'.join(map(str, glibc))}, GLIBCXX_{cxx}")
        ldd = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        say("ldd: " + "; ".join(line.split(" (")[0].strip() for line in ldd.splitlines()))
        floor = max(floor, glibc[:2])
    return f"manylinux_{floor[0]}_{floor[1]}_x86_64"


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def metadata(version):
    with open(README, encoding="utf-8") as f:
        description = f.read()
    return "\n".join([
        "Metadata-Version: 2.1",
        "Name: finetok",
        f"Version: {version}",
        "Summary: Train-ready token arrays for fine-tuning, with exactly the ids of HF tokenizers, tiktoken and sentencepiece",
        "Requires-Python: >=3.8",
        "Provides-Extra: numpy",
        "Requires-Dist: numpy; extra == \"numpy\"",
        "Provides-Extra: datasets",
        "Requires-Dist: datasets; extra == \"datasets\"",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: Operating System :: POSIX :: Linux",
        "Description-Content-Type: text/markdown",
        "",
        description,
    ])


def wheel_files(stage, version, tag):
    """(archive name, bytes, mode) of every file, the .dist-info last but RECORD."""
    files = []
    for folder, prefix in ((PACKAGE, "finetok"), (VOCAB, "finetok/vocab")):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(dirpath, name)
                arcname = prefix + "/" + os.path.relpath(path, folder).replace(os.sep, "/")
                with open(path, "rb") as f:
                    files.append((arcname, f.read(), 0o644))
    for arcname in ("finetok/bin/finetok", "finetok/lib/libFinetokC.so"):
        with open(os.path.join(stage, arcname), "rb") as f:
            files.append((arcname, f.read(), 0o755))
    info = f"finetok-{version}.dist-info"
    files.append((f"{info}/METADATA", metadata(version).encode(), 0o644))
    files.append((f"{info}/WHEEL", ("Wheel-Version: 1.0\nGenerator: finetok build_wheel.py\n"
                                    f"Root-Is-Purelib: false\nTag: py3-none-{tag}\n").encode(), 0o644))
    files.append((f"{info}/entry_points.txt", b"[console_scripts]\nfinetok = finetok.__main__:main\n", 0o644))
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data, _ in files) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode(), 0o644))
    return files


def write_wheel(path, files):
    with zipfile.ZipFile(path + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data, mode in files:
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(ROOT, "dist"), help="folder for the wheel (default: dist/)")
    p.add_argument("--skip-build", action="store_true", help="use the release products already built")
    p.add_argument("--scratch-path", help="SwiftPM's build folder (default .build)")
    a = p.parse_args()
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        sys.exit("build_wheel: builds the x86-64 Linux wheel only, on x86-64 Linux")

    if a.skip_build:
        cmd = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--show-bin-path"]
        bin_path = subprocess.run(cmd + (["--scratch-path", a.scratch_path] if a.scratch_path else []),
                                  check=True, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    else:
        bin_path = swift_build(a.scratch_path)
    stage = tempfile.mkdtemp(prefix="finetok-wheel-")
    try:
        os.makedirs(os.path.join(stage, "finetok", "bin"))
        os.makedirs(os.path.join(stage, "finetok", "lib"))
        exe = os.path.join(stage, "finetok", "bin", "finetok")
        lib = os.path.join(stage, "finetok", "lib", "libFinetokC.so")
        shutil.copy(os.path.join(bin_path, "finetok"), exe)
        link_library(bin_path, lib)
        run(["strip", exe])
        run(["strip", "--strip-unneeded", lib])
        tag = check_binaries([exe, lib])
        version = subprocess.run([exe, "--version"], check=True, capture_output=True, text=True).stdout.split()[-1]
        os.makedirs(a.out, exist_ok=True)
        wheel = os.path.join(a.out, f"finetok-{version}-py3-none-{tag}.whl")
        write_wheel(wheel, wheel_files(stage, version, tag))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    say(f"wrote {wheel} ({os.path.getsize(wheel) / 1e6:.1f} MB)")
    say(f"install it with: python3 -m pip install {os.path.relpath(wheel)}")


if __name__ == "__main__":
    main()
