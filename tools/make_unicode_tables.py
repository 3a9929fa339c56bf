#!/usr/bin/env python3
"""Regenerates Sources/Tokenizer/Regex/UnicodeTables.swift (+Names.swift, +CaseFolding.swift): the Unicode data finetok's regex
engine and generic pre-tokenizers use, read out of the reference implementation itself.

usage: tools/make_unicode_tables.py [--check]      (run from the repository root; ~3 minutes)

Why probe HF `tokenizers` instead of reading UnicodeData.txt: the reference is what HF does, and
HF mixes Unicode versions. Split regexes run Oniguruma (6.9.10 in tokenizers 0.23.3: Unicode
16.0); `Punctuation` uses the `unicode_categories` crate (an older Unicode); `Digits` and
`WhitespaceSplit` use Rust's `char::is_numeric` / `is_whitespace`; `Whitespace` uses the Rust
`regex` crate's `\\w` and `\\s`. Python's `unicodedata` here is Unicode 14.0 and Swift 6.3's
standard library is Unicode 17.0, so neither would be exact. So every set below is measured by
running the reference on every code point (surrogates excluded) and recording which ones match:

- each `\\p{NAME}` the engine accepts, and `\\s`, `\\w`, `\\d`, `\\h`, the POSIX brackets,
  through `Split(Regex(...), "removed", invert=True)` (Oniguruma);
- Oniguruma's case folding: for every cased character, which characters `(?i)X` matches (the
  simple-fold "orbits"), and which characters match a multi-character string (`(?i)ß` matches
  "ss": the full-fold entries);
- the predicates of the HF pre-tokenizers `Punctuation`, `Digits`, `WhitespaceSplit` and
  `Whitespace`.

Sets are written as range lists, each number a base-32 varint (see `UnicodeTables.decode`).
Identical sets are stored once. With --check, prints what would change instead of writing.
"""
import os, sys, unicodedata
from tokenizers import pre_tokenizers as pt, Regex, __version__ as hf_version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Sources", "Tokenizer", "Regex", "UnicodeTables.swift")
# The names of the sets (`\p{...}` and the pre-tokenizers' sets) and the case-folding data
# (`(?i)`), each its own concern, in a file of its own.
OUT_NAMES = os.path.join(ROOT, "Sources", "Tokenizer", "Regex", "UnicodeTables+Names.swift")
OUT_FOLDING = os.path.join(ROOT, "Sources", "Tokenizer", "Regex", "UnicodeTables+CaseFolding.swift")

CPS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
ALL = "".join(map(chr, CPS))

# Property names the engine accepts in \p{...} (Oniguruma ignores case, spaces, '-' and '_').
GC = {
    "Lu": "Uppercase_Letter", "Ll": "Lowercase_Letter", "Lt": "Titlecase_Letter", "Lm": "Modifier_Letter",
    "Lo": "Other_Letter", "Mn": "Nonspacing_Mark", "Mc": "Spacing_Mark", "Me": "Enclosing_Mark",
    "Nd": "Decimal_Number", "Nl": "Letter_Number", "No": "Other_Number", "Pc": "Connector_Punctuation",
    "Pd": "Dash_Punctuation", "Ps": "Open_Punctuation", "Pe": "Close_Punctuation",
    "Pi": "Initial_Punctuation", "Pf": "Final_Punctuation", "Po": "Other_Punctuation",
    "Sm": "Math_Symbol", "Sc": "Currency_Symbol", "Sk": "Modifier_Symbol", "So": "Other_Symbol",
    "Zs": "Space_Separator", "Zl": "Line_Separator", "Zp": "Paragraph_Separator", "Cc": "Control",
    "Cf": "Format", "Co": "Private_Use", "Cn": "Unassigned",
    "L": "Letter", "LC": "Cased_Letter", "M": "Mark", "N": "Number", "P": "Punctuation", "S": "Symbol",
    "Z": "Separator", "C": "Other",
}
BINARY = ["Any", "Assigned", "ASCII", "Alpha", "Alphabetic", "Upper", "Uppercase", "Lower", "Lowercase",
          "Alnum", "Digit", "XDigit", "Word", "Space", "White_Space", "Punct", "Graph", "Print", "Cntrl",
          "Blank"]
ESCAPES = {"\\s": "\\s", "\\w": "\\w", "\\d": "\\d", "\\h": "\\h"}
POSIX = ["alpha", "alnum", "upper", "lower", "digit", "xdigit", "word", "space", "punct", "graph", "print",
         "cntrl", "blank", "ascii"]


def ranges(members):
    rs = []
    for c in members:
        if rs and rs[-1][1] == c - 1:
            rs[-1][1] = c
        else:
            rs.append([c, c])
    return [tuple(r) for r in rs]


def onig_set(pattern):
    """Code points a one-character Oniguruma pattern matches."""
    kept = pt.Split(Regex(pattern), "removed", True).pre_tokenize_str(ALL)
    members = []
    for _, (s, e) in kept:
        members.extend(CPS[s:e])
    return ranges(members)


def isolated_singles(pretok, sep):
    """Code points a pre-tokenizer isolates as a one-character piece when each is followed by `sep`
    (a character that is never isolated)."""
    text = "".join(chr(c) + sep for c in CPS)
    out = []
    for _, (s, e) in pretok.pre_tokenize_str(text):
        if e - s == 1 and s % 2 == 0:
            out.append(CPS[s // 2])
    return ranges(out)


def removed(pretok):
    kept = set()
    for _, (s, e) in pretok.pre_tokenize_str(ALL):
        kept.update(range(s, e))
    return ranges([c for i, c in enumerate(CPS) if i not in kept])


def case_folds(letters):
    """Orbits of Oniguruma's simple case folding, and the multi-character full folds."""
    cand = set()
    for c in CPS:
        ch = chr(c)
        if ch.lower() != ch or ch.upper() != ch or ch.casefold() != ch or ch.title() != ch:
            cand.add(c)
            for s in (ch.lower(), ch.upper(), ch.casefold(), ch.title()):
                if len(s) == 1:
                    cand.add(ord(s))
    # Letters Python's Unicode 14.0 does not know but Oniguruma's 16.0 does.
    for a, b in letters:
        for c in range(a, b + 1):
            if unicodedata.category(chr(c)) == "Cn":
                cand.add(c)
    cand = sorted(cand)
    text = "\x00".join(map(chr, cand))
    starts = {}
    pos = 0
    for c in cand:
        starts[pos] = c
        pos += 2
    orbits, seen = [], set()
    for c in cand:
        if c in seen:
            continue
        kept = pt.Split(Regex("(?i)\\x{%X}" % c), "removed", True).pre_tokenize_str(text)
        orbit = sorted(starts[s] for _, (s, e) in kept if e - s == 1)
        assert c in orbit, hex(c)
        if len(orbit) > 1:
            orbits.append(orbit)
        seen.update(orbit)
    # Multi-character folds (CaseFolding.txt status F): checked against Oniguruma both ways.
    multi = []
    for c in CPS:
        f = chr(c).casefold()
        if len(f) > 1:
            a = pt.Split(Regex("(?i)\\x{%X}" % c), "removed", True).pre_tokenize_str(f)
            b = pt.Split(Regex("(?i)" + "".join("\\x{%X}" % ord(x) for x in f)), "removed", True).pre_tokenize_str(chr(c))
            if [p for p, _ in a] == [f] and [p for p, _ in b] == [chr(c)]:
                multi.append((c, [ord(x) for x in f]))
    return orbits, multi


def varints(numbers):
    """Base-32 varint digits: continuation digits from CONT, the last digit from LAST."""
    LAST = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
    CONT = "WXYZabcdefghijklmnopqrstuvwxyz+*"
    out = []
    for n in numbers:
        assert n >= 0
        digits = [LAST[n & 31]]
        n >>= 5
        while n:
            digits.append(CONT[n & 31])
            n >>= 5
        out.append("".join(reversed(digits)))
    return "".join(out)


def encode_ranges(rs):
    nums, prev = [], -1
    for a, b in rs:
        nums += [a - prev - 1, b - a]
        prev = b
    return varints(nums)


def swift_string(s, indent="        "):
    """A multi-line Swift string literal (the decoder skips the line breaks)."""
    lines = [s[i:i + 96] for i in range(0, len(s), 96)] or [""]
    return '"""\n' + "".join(f"{indent}{line}\n" for line in lines) + f'{indent}"""'


def main():
    check = "--check" in sys.argv
    sets = {}      # name -> ranges
    for short, long in GC.items():
        sets[short] = onig_set("\\p{%s}" % short)
        assert onig_set("\\p{%s}" % long) == sets[short], long
    for name in BINARY:
        sets[name] = onig_set("\\p{%s}" % name)
    for esc in ESCAPES:
        sets[esc] = onig_set(esc)
    for name in POSIX:
        sets["[:%s:]" % name] = onig_set("[[:%s:]]" % name)
    sets["hf:punctuation"] = isolated_singles(pt.Punctuation("isolated"), "a")
    sets["hf:numeric"] = isolated_singles(pt.Digits(individual_digits=True), "a")
    sets["hf:whitespace"] = removed(pt.WhitespaceSplit())
    # Whitespace = Rust regex \w+|[^\w\s]+ with the rest removed: \s chars vanish, "other"
    # chars are isolated between word characters, word characters merge with them.
    space = removed(pt.Whitespace())
    other = isolated_singles(pt.Whitespace(), "a")
    spaceset = {c for a, b in space for c in range(a, b + 1)}
    otherset = {c for a, b in other for c in range(a, b + 1)}
    sets["rx:space"] = space
    sets["rx:word"] = ranges([c for c in CPS if c not in spaceset and c not in otherset])
    orbits, multi = case_folds(sets["L"])

    # Store each distinct set once.
    distinct, index = [], {}
    names = {}
    for name, rs in sets.items():
        key = tuple(rs)
        if key not in index:
            index[key] = len(distinct)
            distinct.append(rs)
        names[name] = index[key]
    def generated(*about):
        """A generated file: the header, then `extension UnicodeTables {` (closed by the caller)."""
        return (["// Generated by tools/make_unicode_tables.py from HF tokenizers %s — do not edit." % hf_version, "//"]
                + ["// " + line for line in about] + ["", "extension UnicodeTables {"])

    lines = generated(
        "Every set was measured by running HF tokenizers on every code point: the regex sets through",
        "Oniguruma (Unicode 16.0 in tokenizers 0.23.3), the `hf:` sets through the Punctuation, Digits",
        "and WhitespaceSplit pre-tokenizers, the `rx:` sets through Whitespace (Rust `regex`). Ranges are",
        "base-32 varints (gap from the previous range, then length - 1); see `UnicodeTables.decode`.",
        "Their names are in UnicodeTables+Names.swift.")
    lines.append("    /// The distinct sets, each an encoded range list.")
    lines.append("    static let encodedSets: [String] = [")
    for rs in distinct:
        lines.append("        " + swift_string(encode_ranges(rs)) + ",")
    lines.append("    ]")
    lines.append("}")

    named = generated("The names the regex engine and the pre-tokenizers look the sets of UnicodeTables.swift up by.")
    named.append("    /// Set index of each name: `\\p{...}` names as Oniguruma spells them (looked up after")
    named.append("    /// `normalizedPropertyName`), `\\s` `\\w` `\\d` `\\h`, `[:posix:]` brackets, and the pre-tokenizers' sets.")
    named.append("    static let names: [String: Int] = [")
    for name in sets:
        named.append('        "%s": %d,' % (name.replace("\\", "\\\\"), names[name]))
    named.append("    ]")
    named.append("")
    named.append("    /// Long names of the general categories (`\\p{Uppercase_Letter}` is `\\p{Lu}`).")
    named.append("    static let longNames: [String: String] = [")
    for short, long in GC.items():
        named.append('        "%s": "%s",' % (long, short))
    named.append("    ]")
    named.append("}")

    folding = generated("Case folding for `(?i)`, measured through Oniguruma as the sets in UnicodeTables.swift are,",
                        "in the same base-32 varints.")
    orbit_nums = []
    for o in orbits:
        orbit_nums += [len(o)] + o
    folding.append("    /// Simple case-folding orbits: a count, then that many code points, repeated (%d orbits)." % len(orbits))
    folding.append("    static let encodedOrbits = " + swift_string(varints(orbit_nums), "        "))
    folding.append("")
    multi_nums = []
    for c, f in multi:
        multi_nums += [c, len(f)] + f
    folding.append("    /// Multi-character full folds: a code point, a count, then its folded code points (%d entries)." % len(multi))
    folding.append("    static let encodedMultiFolds = " + swift_string(varints(multi_nums), "        "))
    folding.append("}")
    outputs = [(OUT, "\n".join(lines) + "\n"), (OUT_NAMES, "\n".join(named) + "\n"),
               (OUT_FOLDING, "\n".join(folding) + "\n")]
    if check:
        for path, text in outputs:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
            print(os.path.basename(path), "unchanged" if old == text else "would change")
        return
    for path, text in outputs:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print(f"wrote {OUT}, {OUT_NAMES} and {OUT_FOLDING}: {len(distinct)} distinct sets from {len(sets)} names, {len(orbits)} orbits, {len(multi)} multi-char folds")
    for name, rs in sets.items():
        print(f"  {name:16} {len(rs):5} ranges {sum(b - a + 1 for a, b in rs):7} code points")


if __name__ == "__main__":
    main()
