#!/usr/bin/env python3
"""Regenerates Tests/TokenizerTests/Fixtures/pretokenizers/ from HF `tokenizers` (0.23.3), the
reference for finetok's regex engine and generic pre-tokenizers. Needs: pip install tokenizers.

usage: tools/make_pretokenizer_fixtures.py [--check]      (run from the repository root)

- `regex.jsonl`: one row per pattern, with one case per text: HF `Split(Regex(pattern))`'s pieces with the
  `isolated` and the `removed` behaviours, as UTF-8 byte ranges (together they pin down every
  match: its boundaries and which pieces matched). HF runs Oniguruma, so this is onig's
  leftmost-first semantics. A pattern Oniguruma rejects gets one row with `"error"`; a pattern
  Oniguruma accepts that finetok refuses on purpose is listed with `"unsupported": true`. Then
  400 seeded random patterns from a small grammar mixing every construct (nested quantifiers of
  every kind, alternation, groups, look-around, atomic groups, anchors, case folding) on short
  random texts: the differential test against Oniguruma.
- `pretokenizers.jsonl`: one row per pre_tokenizer JSON, with one case per text: the pieces HF's pre-tokenizer
  gives (built from the JSON exactly as tokenizer.json holds it): every Split behaviour x invert
  with several regexes and strings, Digits, Punctuation, Whitespace, WhitespaceSplit,
  CharDelimiterSplit, BertPreTokenizer, and the whole `pre_tokenizer` of the real files in
  ../shared/vocab (deepseek-llm, starcoder2, falcon, command-r, llama3, qwen1.5, dolma2).
  `pieces` are byte ranges, flattened ([s0, e0, s1, e1, ...]); rows whose pipeline has a ByteLevel step also carry `strings`, the
  byte-level pieces as HF prints them (a step after ByteLevel can split inside a UTF-8 sequence).
Texts: tricky strings, seeded random strings over characters the patterns care about, and
slices of ../shared/corpus/*.txt. With --check, prints how many rows would change.
"""
import json, os, random, sys
from tokenizers import Tokenizer, Regex, pre_tokenizers as pt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures", "pretokenizers")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
if not os.path.isdir(SHARED):
    SHARED = "/work/shared"

TRICKY = [
    "", " ", "  ", "a", "the-final--countdown", "Hello world", "Hello World from China!", "I'm they're we've you'll he'd it's",
    "I'M THEY'RE WE'VE 'S 'ſ", "  leading and trailing  ", "tab\there", "line\nbreak\r\nwindows\rmac",
    "\n\n\n", " \n ", "end with newline\n", "trailing spaces   ", "a\u00a0b\u2028c\u3000d\u0085e",
    "naïve café résumé", "e\u0301\u0301 combining", "İstanbul ǅ ß ẞ ﬆ K Å", "Straße STRASSE strasse",
    "123 4567 89012 3.14159 1,000,000", "٣٤٥ ४५६ ²³ ½ Ⅻ ① 𝟘𝟙", "x=1+2*3/4-5", "$100 €20 £5 ¥1000",
    "!!! ??? ... --- ___ *** ###", "(a)[b]{c}<d>", "email@example.com http://x.org/a?b=c&d",
    "中文字符测试", "日本語のテキスト、カタカナ", "한국어 텍스트", "Ελληνικά ΣΊΣΥΦΟΣ σίσυφος", "русский ТЕКСТ",
    "עברית", "العربية ١٢٣", "हिन्दी", "ไทย", "👍👨\u200d👩\u200d👧🇫🇷\U0001F600 emoji",
    "<|endoftext|><|im_start|>", "def f(x):\n    return x**2  # comment\n", "CamelCaseWord snake_case_word kebab-case",
    "don't DON'T o'clock rock'n'roll", "\u200b\u200c\u200d\ufeff", "\t\t\n\t ", "ǰ ǰ ΐ ŉ ﬀﬁﬂ",
    "µ ſ K Ω", "Ϊ́", "\x00\x01\x1f\x7f", "a" * 50 + "b", "1" * 40, " " * 30 + "x",
]

# Characters the random strings draw from: letters of several cases and scripts, digits of
# several kinds, punctuation and symbols, every kind of white space, marks, and case-folding
# oddities.
ALPHABET = list("abcxyzABCXYZ0123456789 \t\n\r'\"-_.,;:!?()[]{}<>/\\|@#$%^&*+=~`") + [
    "ſ", "ß", "ẞ", "K", "Å", "µ", "İ", "ı", "ǅ", "Σ", "σ", "ς", "é", "e\u0301", "\u0301", "\u0915\u094d",
    "٣", "४", "²", "½", "Ⅻ", "\u00a0", "\u2028", "\u3000", "\u0085", "\u000b", "\u000c", "\u200b",
    "中", "日", "한", "カ", "ひ", "α", "Ω", "ж", "ש", "ع", "👍", "\U0001F600", "\u2019", "\u201c", "\u2014",
    "…", "。", "，", "、", "！", "？", "€", "£", "¥", "©", "°", "§", "¶", "·", "‿", "ﬆ", "ǰ", "ΐ", "ŉ",
]


def random_text(rng, n, alphabet=ALPHABET):
    return "".join(rng.choice(alphabet) for _ in range(n))


def corpus_slices(rng, count, lengths=(10, 300)):
    out = []
    for name in ("en.txt", "code.txt", "zh.txt"):
        path = os.path.join(SHARED, "corpus", name)
        with open(path, "rb") as f:
            data = f.read(4_000_000)
        text = data.decode("utf-8", errors="ignore")
        for _ in range(count):
            start = rng.randrange(0, len(text) - 400)
            out.append(text[start:start + rng.randint(*lengths)])
    return out


def byte_ranges(text, offsets):
    """Character offsets (what HF returns) → UTF-8 byte offsets, flattened: [s0, e0, s1, e1, ...]."""
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + len(ch.encode("utf-8")))
    return [b for s, e in offsets for b in (prefix[s], prefix[e])]


# (pattern, extra texts): syntax and semantics corners. Every pattern also runs on COMMON.
COMMON = ["", "Hello World 123", "a\nb\n", " \t x \n", "ßss ſ K", "a1_b2-c3 👍 中文 's 'T"]
PATTERNS = [
    ("a", []), ("abc", ["abcabc ab c abcab"]), ("a|b", []), ("ab|a", ["aab ab ba"]), ("a|ab", ["aab ab"]),
    ("", []), ("a|", ["xaa"]), ("|a", ["xaa"]), ("x*", ["xxaxx"]), ("x*?", ["xxa"]), ("x+?", ["xxxa"]),
    ("x??y", ["xy y"]), ("a{2}", ["aaaaa"]), ("a{2,}", ["aaaaa a aa"]), ("a{,2}", ["aaaaa"]), ("a{1,3}", ["aaaaaaa"]),
    ("a{1,3}?", ["aaaa"]), ("a{3,2}", ["aa aaaaa a"]), ("a{3,2}a", ["aaa aaaa"]), ("a{0}", ["aaa"]),
    ("a{2,3", ["a{2,3 aa"]), ("a{ 2}", ["a{ 2}"]), ("x{", ["x{ x"]), ("a{,}", ["a{,} a"]),
    ("a**", ["aaa"]), ("a+*", ["aaa b"]), ("a?*", ["aaa"]), ("a*?+", ["aaa"]), ("(?:a|)*", ["aaab"]),
    ("(?:|a)*", ["aaab"]), ("(|a)+", ["aab"]), ("(?:a*)*b", ["aaab aaa"]), ("(?:a|b?)+c", ["abbc c ab"]),
    ("(?:x?)*y", ["xxy y"]), ("(?:a*?)*?b", ["aab"]), ("(?:(?:a|)b)*", ["abbab"]),
    ("a?+a", ["aa a"]), ("a*+a", ["aaa"]), ("a++", ["aaa b aa"]), ("[ab]*+b", ["aab"]), ("(?:ab)++", ["ababa"]),
    ("(?:ab)*+a", ["ababa"]), ("(?>a|ab)c", ["abc ac"]), ("(?>a+)b", ["aab"]), ("(?>x*)*y", ["xxy"]),
    ("(?=ab)a", ["abac"]), ("(?!b)\\w", ["abc"]), ("a(?=b|c)", ["ab ac ad"]), ("\\w+(?=\\d)", ["abc1 de2"]),
    ("(?=.*x)a", ["a b x a"]), ("(?!.*x)a", ["a x a"]), ("(?<=a)b", ["abcb"]), ("(?<!a)b", ["abcb bb"]),
    ("(?<=ab|c)d", ["abd cd d"]), ("(?<=a+)b", ["aab b"]), ("(?<=\\b)a", ["a ba"]), ("(?<=^|\\s)x", ["x x yx\nx"]),
    ("(?<!\\S)\\w+", ["ab cd\nef"]), ("(?<=[a-c]{2})d", ["abd ad bcd"]), ("(?<=ß)x", ["ßx ssx SSx"]),
    ("^a", ["a\na\n"]), ("a$", ["a\na\r\na"]), ("$", ["a\nb\n"]), ("^", ["a\nb\n\n"]), ("^$", ["\n\na\n"]),
    ("\\Aa", ["aa\na"]), ("a\\z", ["a\na"]), ("a\\Z", ["a\na\n", "a\na"]), ("\\Z", ["a\n"]), ("\\s+$", ["a  \nb  \n"]),
    ("\\ba", ["a ba ab"]), ("a\\b", ["a ba ab"]), ("\\Ba", ["a ba ab"]), ("\\b", ["ab cd"]), ("\\B", ["ab cd"]),
    ("\\b\\w+\\b", ["é ab_c ²x ¹"]), (".", ["a\nb\r"]), (".+", ["ab\ncd"]), ("(?m).+", ["ab\ncd"]),
    ("(?m:.)x", ["\nx ax"]), ("\\N+", ["ab\ncd"]), ("\\O", ["a\n"]), ("\\R", ["a\r\nb\nc\rd\u2028e\u0085"]),
    ("\\d+", ["12 ٣٤ ² ½"]), ("\\D+", ["ab12"]), ("\\w+", ["aé_٣·‿\u200d ²x"]), ("\\W+", ["a, b!"]),
    ("\\s+", ["a \t\n\u00a0\u2028\u3000\u200bb"]), ("\\S+", ["ab cd"]), ("\\h+", ["0fgA9 z"]), ("\\H+", ["0fg z"]),
    ("\\p{L}+", []), ("\\p{Lu}+", ["aBCd ǅ"]), ("\\p{Ll}", ["aBc"]), ("\\p{Lt}", ["ǅǈ"]), ("\\p{Lm}+", ["ʰʲ"]),
    ("\\p{Lo}+", ["中文 ab"]), ("\\p{M}+", ["e\u0301\u0302x"]), ("\\p{Mn}", ["\u0301"]), ("\\p{N}+", ["1²½Ⅻ"]),
    ("\\p{Nd}+", ["1²٣"]), ("\\p{P}+", ["a,.!?-()b"]), ("\\p{S}+", ["$+<=>^`|~€"]), ("\\p{Z}+", ["a \u00a0\u2028b"]),
    ("\\p{C}+", ["a\x00\x1f\u200bb"]), ("\\P{L}+", ["ab12 c"]), ("\\p{^L}+", ["ab12"]), ("\\P{^L}+", ["ab12"]),
    ("\\p{Letter}+", ["ab1"]), ("\\p{ letter }+", ["ab1"]), ("\\p{Uppercase_Letter}+", ["aBC"]),
    ("\\p{LC}+", ["aBǅ中"]), ("\\p{Any}+", ["a\nb"]), ("\\p{ASCII}+", ["ab€"]), ("\\p{Alpha}+", ["aé1"]),
    ("\\p{Word}+", ["a_1 ²"]), ("\\p{Space}+", ["a \n b"]), ("\\p{Punct}+", ["a$,b"]), ("\\p{Upper}+", ["aBⅫ"]),
    ("\\p{Lower}+", ["aBª"]), ("\\p{Digit}+", ["1٣²"]), ("\\p{XDigit}+", ["0fG"]), ("\\p{Alnum}+", ["a1²"]),
    ("\\p{Graph}+", ["a b"]), ("\\p{Print}+", ["a b\n"]), ("\\p{Cntrl}+", ["a\x01\x7f"]), ("\\p{Blank}+", ["a \t\nb"]),
    ("[abc]+", []), ("[^abc]+", []), ("[a-c]+", []), ("[a-]+", ["a-b"]), ("[-a]+", ["a-b"]), ("[a\\-z]+", ["a-zb"]),
    ("[]a]+", ["]a"]), ("[^]a]+", ["]ab"]), ("[\\]]+", ["]a"]), ("[\\\\]+", ["a\\b"]), ("[\\^a]+", ["^a"]),
    ("[a-c[x-z]]+", ["abxyzd"]), ("[\\w&&[^a]]+", ["abcab"]), ("[a-z&&b-c]+", ["abcd"]), ("[&&a]+", ["a&"]),
    ("[a&&]+", ["a&"]), ("[a&]+", ["a&"]), ("[\\p{L}&&\\p{Lu}]+", ["aAb"]), ("[\\p{L}&&[^\\p{Lu}]]+", ["aAb"]),
    ("[[:alpha:]]+", ["ab12é"]), ("[[:^alpha:]]+", ["ab12"]), ("[[:punct:]]+", ["a$,+b"]), ("[[:space:]]+", ["a \nb"]),
    ("[[:word:]]+", ["a_1²"]), ("[[:upper:][:digit:]]+", ["aB1c"]), ("[:alpha:]+", ["ab:12"]), ("[[:alnum:]]+", ["a1²"]),
    ("[\\s\\d]+", ["a 1\tb"]), ("[^\\s\\p{L}\\p{N}]+", ["a, b!? c"]), ("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+", ["  ab ,cd\nef"]),
    ("[\\x41-\\x43]+", ["ABCD"]), ("[\\u00e0-\\u00ff]+", ["àéÿa"]), ("[\\x{1F600}-\\x{1F64F}]+", ["\U0001F600\U0001F601a"]),
    ("[\\t\\n]+", ["a\t\nb"]), ("[.]+", ["a.b"]), ("[*+?]+", ["a*+?b"]), ("[$^]+", ["a$^b"]), ("[|]+", ["a|b"]),
    ("\\x41\\x{42}\\u0043", ["ABC"]), ("\\x7F", ["\x7f"]), ("\\0", ["\x00"]), ("\\07", ["\x07"]), ("\\o{101}", ["A"]),
    ("\\a\\e\\f\\v", ["\x07\x1b\x0c\x0b"]), ("\\cA", ["\x01"]), ("\\t\\n\\r", ["\t\n\r"]), ("\\.\\*\\+\\?", [".*+?"]),
    ("\\(\\)\\[\\]\\{\\}", ["()[]{}"]), ("\\/\\-\\#\\&\\~", ["/-#&~"]), ("\\ ", ["a b"]), ("]", ["a]"]), ("}", ["a}"]),
    ("(?i)s", ["sſS"]), ("(?i)ss", ["ßssẞ"]), ("(?i)ß", ["ßssSSſsẞ"]), ("(?i)st", ["ﬅﬆst"]), ("(?i)ﬆ", ["ﬅﬆstST"]),
    ("(?i)k", ["kKK"]), ("(?i)[a-z]+", ["ſKÅåǅ"]), ("(?i)[^a-z]+", ["ſKÅ1"]), ("(?i)\\p{Lu}+", ["abcAB"]),
    ("(?i)[\\p{Lu}]+", ["abcAB"]), ("(?i)[^\\p{Ll}]+", ["abcAB1"]), ("(?i)\\P{Lu}+", ["abcAB1"]), ("(?i)ǆ", ["ǄǅǆDž"]),
    ("(?i)ΐ", ["ΐΐ"]), ("(?i)ǰ", ["ǰǰ"]), ("(?i)σ", ["Σσς"]), ("(?i)[ß]", ["ßssSSẞ"]), ("(?i)[^ß]", ["ßs"]),
    ("(?i)[a-zß]", ["ßss"]), ("(?i)[ßa]+", ["ssass"]), ("(?i)s+", ["ßss"]), ("(?i)ß+", ["ßssSSẞß"]), ("(?i)ass", ["aßAẞ"]),
    ("(?i)s(?:s)", ["ßss"]), ("(?i:s)s", ["ß"]), ("(?i)ss(?-i)", ["ß"]), ("(?i)a(?:ss|x)", ["aß"]), ("(?i)s{2}", ["ß"]),
    ("(?i)sss", ["ßs sß"]), ("(?i)ffi", ["ﬃ fﬁ ﬀi ffi FFI"]), ("(?i)fﬁ", ["ﬃ fﬁ ﬀi ffi"]), ("(?i)ﬀi", ["ﬃ fﬁ ﬀi ffi"]),
    ("(?i)sst", ["ßt sﬆ ﬆs"]), ("(?i)sſt", ["sﬆ ßt ſſt"]), ("(?i)xﬆ+", ["xﬆst xstst"]), ("(?i)[ﬆ]+", ["ﬆstST"]), ("(?i)strasse", ["Straße STRASSE"]), ("(?i)ﬃ", ["ffi FFI ﬃ"]), ("(?i)i", ["iIİı"]),
    ("a(?i)b|c", ["aBxCc acaC"]), ("x(?i:b|c)|d", ["xBxCD"]), ("(?i)(?-i)a", ["aA"]), ("(?i-i:a)", ["aA"]),
    ("(?im:.)", ["\nA"]), ("(?x) a b # c", ["ab"]), ("(?x)[ ]a", [" a"]), ("(?x)a\\ b", ["a b"]), ("(?:)", ["ab"]),
    ("()", ["ab"]), ("(a)(b)", ["ab"]), ("(?<n>a)b", ["ab"]), ("(?'n'a)b", ["ab"]), ("(?#comment)a", ["a"]),
    ("a{1}{2}", ["aaaa"]), ("a{1,2}{2}", ["aaaaa"]), ("(ab){2}", ["ababab"]), ("(a|b){2,3}?c", ["ababc"]),
    ("(?i:'s|'t|'re|'ve|'m|'ll|'d)", ["'S 'ſ 'RE 'Ll"]),
    # The split patterns of real tokenizers.
    ("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", []),
    ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", []),
    ("'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s", ["12345678 a"]),
    ("[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?", ["HelloWORLDfoo'S"]),
    ("[0-9][0-9][0-9]", ["12345678"]), ("\\s?[!-/:-~！-／：-～‘-‟　-。]+", ["a!? ！？ “x”"]), ("[一-龥ࠀ-一가-퟿]+", ["中文abc한국"]),
    ("[\\r\\n]", []), ("\\p{N}", []),
    # Errors Oniguruma reports.
    ("(", []), (")", []), ("a)", []), ("(?", []), ("[a", []), ("[z-a]", []), ("[a-\\d]", []), ("[\\d-z]", []),
    ("*a", []), ("+", []), ("a|*", []), ("(?s).", []), ("\\u12", []), ("[[:foo:]]", []), ("(?<=a(?=b))b", []),
    ("\\p{Foo}", []), ("a{100001}", []), ("(?<>a)", []), ("(?P<n>a)", []), ("[[:alpha:]-z]", []),
    ("\\", []), ("^*", []), ("(?i", []),
]
# Accepted by Oniguruma, refused by finetok (documented in RegexParser.swift).
UNSUPPORTED = [
    "(a)\\1", "(?<n>a)\\k<n>", "\\K", "\\Ga", "\\X", "\\p{Han}+", "\\p{Greek}", "\\pL", "\\q", "(?~ab)", "(a)(?(1)a|b)",
    "(a)\\g<1>", "\\x", "\\yx", "\\x{110000}",
]


def real_split_regexes():
    """The Split regexes of the real files (read from the files: retyping them would risk a
    normalized character changing a range)."""
    out = []
    for name in ["deepseek-llm", "falcon"]:
        with open(os.path.join(SHARED, "vocab", name, "tokenizer.json"), encoding="utf-8") as f:
            p = json.load(f)["pre_tokenizer"]
        for q in p.get("pretokenizers", [p]):
            if q.get("type") == "Split" and "Regex" in q["pattern"]:
                out.append((q["pattern"]["Regex"], []))
    return out


def random_pattern(rng, depth=0):
    """A random pattern from a small grammar that mixes every construct the engine implements."""
    r = rng.random()
    if depth > 3 or r < 0.35:
        return rng.choice(["a", "b", "ab", "[ab]", "[^a]", ".", "\\s", "\\w", "\\d", "x", " ", "\\n", "(?i:A)", "[a-c]",
                           "\\p{L}", "\\S", "é", "(?i:ss)", "ß", "\\p{Lu}", "\\R", "[\\s\\d]", "(?i)b"])
    if r < 0.45:
        return rng.choice(["^", "$", "\\b", "\\B", "\\A", "\\z", "\\Z"])
    if r < 0.65:
        return random_pattern(rng, depth + 1) + random_pattern(rng, depth + 1)
    if r < 0.75:
        return random_pattern(rng, depth + 1) + "|" + random_pattern(rng, depth + 1)
    if r < 0.9:
        q = rng.choice(["*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}", "{3,1}"])
        mod = rng.choice(["", "", "?", "+"]) if q in "*+?" else rng.choice(["", "?"])
        return "(?:" + random_pattern(rng, depth + 1) + ")" + q + mod
    kind = rng.choice(["(?:", "(", "(?=", "(?!", "(?>", "(?<=", "(?<!", "(?i:", "(?m:"])
    inner = random_pattern(rng, depth + 1)
    if kind in ("(?<=", "(?<!"):
        inner = rng.choice(["a", "b", "ab", "a|bc", "\\s", "[ab]", "a+", "\\b", "(?i:a)", "^"])
    return kind + inner + ")"


def random_regex_rows(rng, count):
    alphabet = list("ab \nx1AéßS")
    rows = []
    for _ in range(count):
        pattern = random_pattern(rng)
        try:
            Regex(pattern)
        except Exception as e:
            rows.append({"pattern": pattern, "error": str(e)})
            continue
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(3)]
        rows.append({"pattern": pattern, "cases": [
            {"text": t, "isolated": split_pieces(pattern, t, "isolated"), "removed": split_pieces(pattern, t, "removed")}
            for t in texts]})
    return rows


def split_pieces(pattern, text, behavior):
    return byte_ranges(text, [o for _, o in pt.Split(Regex(pattern), behavior, False).pre_tokenize_str(text)])


def regex_rows(rng):
    rows = []
    for pattern, extra in PATTERNS + real_split_regexes():
        try:
            Regex(pattern)
        except Exception as e:
            rows.append({"pattern": pattern, "error": str(e)})
            continue
        texts = COMMON + extra + [random_text(rng, rng.randint(1, 16)) for _ in range(2)]
        rows.append({"pattern": pattern, "cases": [
            {"text": text, "isolated": split_pieces(pattern, text, "isolated"), "removed": split_pieces(pattern, text, "removed")}
            for text in texts]})
    for pattern in UNSUPPORTED:
        Regex(pattern)  # Oniguruma accepts it
        rows.append({"pattern": pattern, "unsupported": True})
    return rows + random_regex_rows(rng, 400)


def bare_tokenizer(pre_tokenizer):
    return Tokenizer.from_str(json.dumps({
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
        "pre_tokenizer": pre_tokenizer, "post_processor": None, "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "vocab": {}, "merges": []},
    }))


def has_byte_level(p):
    if p.get("type") == "ByteLevel":
        return True
    return any(has_byte_level(q) for q in p.get("pretokenizers", []))


def pretokenizer_rows(rng):
    behaviors = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]
    texts = TRICKY[:24] + [random_text(rng, rng.randint(1, 30)) for _ in range(6)] + corpus_slices(rng, 1, (10, 80))
    grid_texts = TRICKY[:12] + texts[24:27] + texts[-2:]
    configs = []
    for pattern in [{"Regex": "\\s+"}, {"Regex": "[0-9]"}, {"Regex": "\\p{P}+"}, {"Regex": "a|"}, {"Regex": "\\b"},
                    {"Regex": "(?=[A-Z])"}, {"String": " "}, {"String": "-"}, {"String": "ab"}, {"String": ""}]:
        for behavior in behaviors:
            for invert in (False, True):
                configs.append(({"type": "Split", "pattern": pattern, "behavior": behavior, "invert": invert}, grid_texts))
    configs.append(({"type": "Digits", "individual_digits": True}, texts))
    configs.append(({"type": "Digits", "individual_digits": False}, texts))
    for behavior in behaviors:
        configs.append(({"type": "Punctuation", "behavior": behavior}, texts))
    configs.append(({"type": "Punctuation"}, texts))
    configs.append(({"type": "Whitespace"}, texts))
    configs.append(({"type": "WhitespaceSplit"}, texts))
    configs.append(({"type": "BertPreTokenizer"}, texts))
    for d in [" ", "-", "▁", "\n"]:
        configs.append(({"type": "CharDelimiterSplit", "delimiter": d}, texts))
    configs.append(({"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Digits", "individual_digits": True},
                                                           {"type": "Punctuation", "behavior": "MergedWithNext"}]}, texts))
    # The real files' whole pre_tokenizer, on more text.
    real_texts = TRICKY + [random_text(rng, rng.randint(1, 50)) for _ in range(25)] + corpus_slices(rng, 6, (10, 160))
    for name in ["deepseek-llm", "starcoder2", "falcon", "command-r", "llama3", "qwen1.5", "dolma2"]:
        with open(os.path.join(SHARED, "vocab", name, "tokenizer.json"), encoding="utf-8") as f:
            p = json.load(f)["pre_tokenizer"]
        configs.append(({"file": name, **p}, real_texts))
    rows = []
    for config, ts in configs:
        p = {k: v for k, v in config.items() if k != "file"}
        tok = bare_tokenizer(p)
        bl = has_byte_level(p)
        row = {"pre_tokenizer": p}
        if "file" in config:
            row["file"] = config["file"]
        row["cases"] = []
        for text in ts:
            out = tok.pre_tokenizer.pre_tokenize_str(text)
            case = {"text": text}
            if bl:
                case["strings"] = [s for s, _ in out]
            else:
                case["pieces"] = byte_ranges(text, [o for _, o in out])
            row["cases"].append(case)
        rows.append(row)
    return rows


def write(name, rows, check):
    path = os.path.join(OUT, name)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if check:
        old = open(path, encoding="utf-8").read().splitlines(True) if os.path.exists(path) else []
        new = text.splitlines(True)
        diff = sum(1 for a, b in zip(old, new) if a != b) + abs(len(old) - len(new))
        print(f"{name}: {diff} of {len(new)} rows differ")
        return
    os.makedirs(OUT, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {path}: {len(rows)} rows, {len(text.encode()) // 1024} KB")


def main():
    check = "--check" in sys.argv
    write("regex.jsonl", regex_rows(random.Random(20240611)), check)
    write("pretokenizers.jsonl", pretokenizer_rows(random.Random(20240612)), check)


if __name__ == "__main__":
    main()
