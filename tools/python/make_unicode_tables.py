#!/usr/bin/env python3
"""Writes src/tokenizer/unicode_tables.cc: the per-character Unicode data that BERT's normalizer
and pre-tokenizer need (llmcc's WordPiece tokenizer), measured from Hugging Face `tokenizers`.

Why measure instead of reading the Unicode database: `tokenizers` takes its categories from the
Rust crate unicode_categories (an older Unicode than Python's unicodedata; e.g. it does not know
U+13430, a format character since Unicode 12, so clean_text keeps it), NFD from
unicode-normalization-alignments and lowercasing from Rust's char::to_lowercase. Asking the
library itself, one code point at a time, gives exactly the behaviour the goldens check, and the
script reports how far that is from Python's unicodedata.

Every step of BertNormalizer is a per-character map except NFD's canonical reordering of marks;
reordering only matters for the few combining characters that strip_accents keeps (listed in the
output's header). Hangul syllables are decomposed algorithmically (checked here), not tabled.

  pip install tokenizers
  python3 tools/python/make_unicode_tables.py  (then formats the file with clang-format)
"""
import os
import shutil
import subprocess
import unicodedata

import tokenizers
from tokenizers import normalizers, pre_tokenizers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "tokenizer",
                   "unicode_tables.cc")
ASCII_SYMBOLS = set(range(33, 48)) | set(range(58, 65)) | set(range(91, 97)) | set(range(123, 127))


def code_points():
    return (cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)


def bert(clean=False, chinese=False, strip=False, lower=False):
    return normalizers.BertNormalizer(clean_text=clean, handle_chinese_chars=chinese,
                                      strip_accents=strip, lowercase=lower)


def ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] + 1 == cp:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def hangul_nfd(cp):
    s = cp - 0xAC00
    out = [0x1100 + s // 588, 0x1161 + (s % 588) // 28]
    if s % 28:
        out.append(0x11A7 + s % 28)
    return "".join(map(chr, out))


def measure():
    clean, strip, lower = bert(clean=True), bert(strip=True), bert(lower=True)
    chinese, pre = bert(chinese=True), pre_tokenizers.BertPreTokenizer()
    t = dict(control=set(), space=set(), whitespace=set(), punct=set(), chinese=set(), dropped=set(), strip={},
             lower={})
    for cp in code_points():
        c = chr(cp)
        cleaned = clean.normalize_str(c)
        if cleaned == "":
            t["control"].add(cp)
        elif cleaned == " " and c != " ":
            t["space"].add(cp)
        pieces = [p for p, _ in pre.pre_tokenize_str("a" + c + "a")]
        if len(pieces) == 3 and pieces[1] == c:
            t["punct"].add(cp)
        elif pieces == ["a", "a"]:
            t["whitespace"].add(cp)
        if chinese.normalize_str(c) == " " + c + " ":
            t["chinese"].add(cp)
        s = strip.normalize_str(c)
        if 0xAC00 <= cp <= 0xD7A3:
            assert s == hangul_nfd(cp), f"U+{cp:04X}"
        elif s == "":
            t["dropped"].add(cp)
        elif s != c:
            t["strip"][cp] = s
        low = lower.normalize_str(c)
        if low != c:
            t["lower"][cp] = low
    # clean_text maps to ' ' the same whitespace that the pre-tokenizer splits on, unless dropped.
    assert t["whitespace"] - t["control"] == t["space"] | {0x20}
    return t


def lower_runs(lower):
    """(first, last, delta, stride) runs of single-character mappings; longer ones apart."""
    runs, multi = [], {}
    for cp in sorted(lower):
        if len(lower[cp]) != 1:
            multi[cp] = lower[cp]
            continue
        delta = ord(lower[cp]) - cp
        if runs:
            first, last, d, stride = runs[-1]
            if d == delta and (cp - last == stride or (first == last and cp - last in (1, 2))):
                runs[-1] = [first, cp, d, cp - last]
                continue
        runs.append([cp, cp, delta, 1])
    return runs, multi


def compare_with_unicodedata(t):
    """Where `tokenizers` disagrees with Python's Unicode database, as a count per table."""
    cat = lambda cp: unicodedata.category(chr(cp))
    diffs = {}
    ucd = {
        "control": {cp for cp in code_points() if cp in (0, 0xFFFD) or
                    (cat(cp) in ("Cc", "Cf", "Co") and cp not in (9, 10, 13))},
        "punct": {cp for cp in code_points() if cat(cp).startswith("P") or cp in ASCII_SYMBOLS},
    }
    for name, want in ucd.items():
        diffs[name] = len(want ^ t[name])
    nfd = {}
    for cp in code_points():
        d = unicodedata.normalize("NFD", chr(cp))
        if d != chr(cp) and not 0xAC00 <= cp <= 0xD7A3:
            nfd[cp] = "".join(x for x in d if unicodedata.category(x) != "Mn")
    measured = {**t["strip"], **{cp: "" for cp in t["dropped"]}}
    ucd_strip = {**nfd, **{cp: "" for cp in code_points() if cat(cp) == "Mn" and cp not in nfd}}
    diffs["strip"] = sum(1 for cp in set(measured) | set(ucd_strip)
                         if measured.get(cp, chr(cp)) != ucd_strip.get(cp, chr(cp)))
    diffs["lower"] = sum(1 for cp in code_points()
                         if t["lower"].get(cp, chr(cp)) != (chr(cp).lower()))
    return diffs


def kept_reordering_marks(t):
    """Combining characters (canonical class > 0) that strip_accents keeps: NFD may reorder
    them, which the per-character table does not."""
    kept = {cp for cp in code_points() if cp not in t["dropped"] and cp not in t["strip"]}
    kept |= {ord(x) for s in t["strip"].values() for x in s}
    return sorted(cp for cp in kept if unicodedata.combining(chr(cp)))


def fmt_list(items):
    """Packs the items into lines of at most 100 columns (the data stays out of clang-format,
    whose one-column-per-item alignment would double its length)."""
    lines = ["   "]
    for item in items:
        if len(lines[-1]) + 1 + len(item) > 100:
            lines.append("   ")
        lines[-1] += " " + item
    return "\n".join(lines)


def cxx_ranges(name, rs, comment):
    body = fmt_list([f"{{0x{a:X}, 0x{b:X}}}," for a, b in rs])
    return f"// {comment}\nconstexpr Range {name}[] = {{\n{body}\n}};\n"


def main():
    t = measure()
    diffs = compare_with_unicodedata(t)
    keep = kept_reordering_marks(t)
    runs, lower_multi = lower_runs(t["lower"])
    single = sorted((cp, s) for cp, s in t["strip"].items() if len(s) == 1)
    multi = sorted((cp, s) for cp, s in t["strip"].items() if len(s) > 1)
    assert max(len(s) for _, s in multi) <= 3 and all(len(s) <= 3 for s in lower_multi.values())
    hexs = lambda s: ", ".join(f"0x{ord(x):X}" for x in s)
    parts = [f"""// Generated by tools/python/make_unicode_tables.py from Hugging Face tokenizers {tokenizers.__version__}
// (measured one code point at a time; see the script). Do not edit by hand.
// Differences from Python's unicodedata {unicodedata.unidata_version}, in code points: clean_text
// controls {diffs['control']}, punctuation {diffs['punct']}, strip_accents {diffs['strip']}, lowercase {diffs['lower']}.
// strip_accents keeps {len(keep)} combining characters ({", ".join(f"U+{cp:04X}" for cp in keep[:4])}...) whose NFD reordering
// the per-character tables do not reproduce.
#include "tokenizer/unicode_tables.h"

#include <algorithm>
#include <iterator>

namespace llmcc::unicode {{

namespace {{

struct Range {{
  char32_t first, last;
}};
struct Mapping {{
  char32_t from, to;
}};
struct MultiMapping {{
  char32_t from, to[3];
}};
struct LowerRun {{
  char32_t first, last;
  int32_t delta, stride;
}};

// clang-format off
"""]
    parts.append(cxx_ranges("kControl", ranges(t["control"]),
                            "Dropped by clean_text: NUL, U+FFFD and Cc/Cf/Co except \\t \\n \\r."))
    parts.append(cxx_ranges("kWhitespace", ranges(t["whitespace"]),
                            "Rust's char::is_whitespace: mapped to ' ', split on."))
    parts.append(cxx_ranges("kPunctuation", ranges(t["punct"]),
                            "BertPreTokenizer's punctuation: Unicode P* plus ASCII symbols."))
    parts.append(cxx_ranges("kChinese", ranges(t["chinese"]),
                            "handle_chinese_chars: the CJK ideograph blocks."))
    parts.append(cxx_ranges("kStripDropped", ranges(t["dropped"]),
                            "strip_accents drops these entirely: nonspacing marks (Mn)."))
    body = fmt_list([f"{{0x{cp:X}, 0x{ord(s):X}}}," for cp, s in single])
    parts.append(f"// strip_accents: NFD without nonspacing marks, one character.\n"
                 f"constexpr Mapping kStrip[] = {{\n{body}\n}};\n")
    body = fmt_list([f"{{0x{cp:X}, {{{hexs(s)}}}}}," for cp, s in multi])
    parts.append(f"// ... and several characters.\nconstexpr MultiMapping kStripMulti[] = {{\n{body}\n}};\n")
    body = fmt_list([f"{{0x{a:X}, 0x{b:X}, {d}, {s}}}," for a, b, d, s in runs])
    parts.append(f"// Rust's char::to_lowercase: cp + delta for every stride-th cp of [first, last].\n"
                 f"constexpr LowerRun kLower[] = {{\n{body}\n}};\n")
    body = fmt_list([f"{{0x{cp:X}, {{{hexs(s)}}}}}," for cp, s in sorted(lower_multi.items())])
    parts.append(f"constexpr MultiMapping kLowerMulti[] = {{\n{body}\n}};\n")
    parts.append("""// clang-format on

template <typename T, size_t N>
const T* find_last_at_or_before(const T (&table)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(table), std::end(table), c,
                             [](char32_t x, const T& e) { return x < e.first; });
  return it == std::begin(table) ? nullptr : &*(it - 1);
}

template <size_t N>
bool in(const Range (&table)[N], char32_t c) {
  const Range* r = find_last_at_or_before(table, c);
  return r && c <= r->last;
}

template <typename T, size_t N>
const T* find_exact(const T (&table)[N], char32_t c) {
  auto it = std::lower_bound(std::begin(table), std::end(table), c,
                             [](const T& e, char32_t x) { return e.from < x; });
  return it != std::end(table) && it->from == c ? &*it : nullptr;
}

void append_multi(const MultiMapping& m, std::u32string& out) {
  for (char32_t x : m.to)
    if (x) out += x;
}

}  // namespace

bool is_bert_control(char32_t c) { return in(kControl, c); }
bool is_whitespace(char32_t c) { return in(kWhitespace, c); }
bool is_bert_punctuation(char32_t c) { return in(kPunctuation, c); }
bool is_chinese_char(char32_t c) { return in(kChinese, c); }

void append_stripped(char32_t c, std::u32string& out) {
  if (c >= 0xAC00 && c <= 0xD7A3) {  // Hangul syllable: leading, vowel and trailing jamo
    const char32_t s = c - 0xAC00;
    out += 0x1100 + s / 588;
    out += 0x1161 + (s % 588) / 28;
    if (s % 28) out += 0x11A7 + s % 28;
    return;
  }
  if (in(kStripDropped, c)) return;
  if (const Mapping* m = find_exact(kStrip, c)) {
    out += m->to;
  } else if (const MultiMapping* mm = find_exact(kStripMulti, c)) {
    append_multi(*mm, out);
  } else {
    out += c;
  }
}

void append_lowercase(char32_t c, std::u32string& out) {
  const LowerRun* r = find_last_at_or_before(kLower, c);
  if (r && c <= r->last && (c - r->first) % r->stride == 0) {
    out += static_cast<char32_t>(static_cast<int32_t>(c) + r->delta);
  } else if (const MultiMapping* mm = find_exact(kLowerMulti, c)) {
    append_multi(*mm, out);
  } else {
    out += c;
  }
}

}  // namespace llmcc::unicode
""")
    with open(OUT, "w") as f:
        f.write("\n".join(parts))
    clang_format = shutil.which("clang-format") or shutil.which("clang-format-14")
    if clang_format:
        subprocess.run([clang_format, "-i", OUT], check=True)
    print(f"wrote {OUT}: {len(single)} + {len(multi)} decompositions, {len(runs)} lowercase runs, "
          f"differences from unicodedata {diffs}")


if __name__ == "__main__":
    main()
