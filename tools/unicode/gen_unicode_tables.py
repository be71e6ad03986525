#!/usr/bin/env python3
"""Generates src/NativeTransformer/Tokenization/UnicodeTables.Generated.cs.

Run from the repository root:  python3 tools/unicode/gen_unicode_tables.py
The tables do not depend on .NET's globalization mode or ICU.

Which Unicode version: the tables reproduce Hugging Face's Rust tokenizers, whose BertNormalizer and
BertPreTokenizer take each property from a different Rust crate, each frozen at its own Unicode version
(docs/tokenizers.md, "WordPiece and Unicode versions"):
  * categories (Cc/Cf/Co "other", Mn, P*): crate unicode_categories 0.1.1 -> Unicode 8.0.0
  * NFD / NFKD / NFC / NFKC (decompositions, combining classes, composites) and is_combining_mark (StripAccents):
    crate unicode-normalization-alignments 0.1.12 -> Unicode 9.0.0
  * lowercase: Rust std char::to_lowercase of the compiler that built the reference (1.93) -> Unicode 16.0.0
  * whitespace: Rust std char::is_whitespace (White_Space, unchanged since Unicode 6.3) -> in code, not here.
Python's unicodedata has only its own version, so the versions that differ come from
tools/unicode/hf_unicode_data.json (made by export_hf_unicode_data.mjs from the @unicode/unicode-* npm packages):
the 8.0.0 category sets, the code points assigned in 9.0.0, the 9.0.0 marks and the 16.0.0 lowercase mappings.
Normalization data (NFD, NFKD, composites) is taken from Python's unicodedata for the code points assigned in 9.0.0
only: decomposition mappings and combining
classes of assigned characters never change (Unicode normalization stability policy), so this equals 9.0.0.

Tables emitted (all sorted, binary-searched at run time):
  * CategoryRanges: (start, end, flags) ranges of code points with flags
        1 = "other" as HF's BertNormalizer uses it (general category Cc, Cf or Co; NOT Cn/Cs),
        2 = Mn (non-spacing mark; removed by strip_accents),
        4 = P* (Unicode punctuation; BertPreTokenizer also adds ASCII punctuation in code),
        64 = any Mark (Mn, Mc, Me) of Unicode 9.0 (with flag 2: what HF's StripAccents removes).
  * Decomposition: full (recursive) canonical decomposition of every code point whose NFD differs
        from itself, except precomposed Hangul syllables (done algorithmically).
  * CombiningClass: (start, end, ccc) ranges with canonical combining class != 0, for the NFD
        canonical-ordering step.
  * Lowercase: full lowercase mapping (Rust char::to_lowercase / Python str.lower semantics for a
        single char) of every code point whose lowercase differs; multi-char results are stored
        in a side table (only U+0130 in current Unicode).
  * CompatDecomposition: full NFKD of every code point whose NFKD differs from its NFD (Hangul excluded).
  * Composition: primary composites for NFC/NFKC: (first << 21 | second) -> composite, for every canonical
        pair decomposition that NFC recomposes (composition exclusions and singletons drop out by construction).
"""
import json
import os
import sys
import unicodedata

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "NativeTransformer", "Tokenization",
                   "UnicodeTables.Generated.cs")
MAX = 0x110000
DATA = os.path.join(os.path.dirname(__file__), "hf_unicode_data.json")
VERSIONS = "categories 8.0.0, normalization and marks 9.0.0, lowercase 16.0.0"


def load_data():
    with open(DATA, encoding="utf-8") as f:
        d = json.load(f)

    def expand(ranges_):
        return {cp for a, b in ranges_ for cp in range(a, b + 1)}

    cats = {k: expand(v) for k, v in d["categories_8_0_0"].items()}
    assigned9 = expand(d["assigned_9_0_0"])
    marks9 = expand(d["marks_9_0_0"])
    lower = {int(k): v for k, v in d["lowercase_16_0_0"].items()}
    return cats, assigned9, marks9, lower


CATS, ASSIGNED_9, MARKS_9, LOWER_16 = load_data()


def is_surrogate(cp):
    return 0xD800 <= cp <= 0xDFFF


def flags_of(cp):
    """Flags from the Unicode 8.0.0 categories (what crate unicode_categories 0.1.1 knows)."""
    f = 0
    if cp in CATS["Cc"] or cp in CATS["Cf"] or cp in CATS["Co"]:
        f |= 1
    if cp in CATS["Mn"]:
        f |= 2
    if cp in CATS["P"]:
        f |= 4
    # Any mark (Mn/Mc/Me) as unicode-normalization-alignments' is_combining_mark knows it (Unicode 9.0), for
    # StripAccents; BertNormalizer's own accent stripping keeps using flag 2 (Mn of Unicode 8.0).
    if cp in MARKS_9:
        f |= 64
    return f


def nfd_known(cp):
    """True for code points whose NFD data the reference has (assigned in Unicode 9.0.0)."""
    return cp in ASSIGNED_9 and not is_surrogate(cp)


def ranges(values):
    """values: iterable of (cp, v) for every cp in order; returns list of (start, end, v) for v != 0."""
    out = []
    cur = None
    for cp, v in values:
        if cur and cur[2] == v and cur[1] == cp - 1:
            cur[1] = cp
        else:
            if cur and cur[2] != 0:
                out.append(tuple(cur))
            cur = [cp, cp, v]
    if cur and cur[2] != 0:
        out.append(tuple(cur))
    return out


def fmt_ints(nums, per_line=12):
    lines = []
    for i in range(0, len(nums), per_line):
        lines.append("        " + ", ".join("0x%X" % n for n in nums[i:i + per_line]) + ",")
    return "\n".join(lines)


def main():
    if tuple(int(x) for x in unicodedata.unidata_version.split(".")) < (9, 0, 0):
        sys.exit("Python's unicodedata must be Unicode 9.0.0 or newer (it supplies the NFD data of 9.0.0 code points)")
    cat_ranges = ranges((cp, flags_of(cp)) for cp in range(MAX))
    ccc_ranges = ranges((cp, unicodedata.combining(chr(cp)) if nfd_known(cp) else 0) for cp in range(MAX))

    decomp_keys, decomp_offsets, decomp_data = [], [], []
    for cp in range(MAX):
        if not nfd_known(cp) or 0xAC00 <= cp <= 0xD7A3:
            continue
        s = chr(cp)
        d = unicodedata.normalize("NFD", s)
        if d != s:
            decomp_keys.append(cp)
            decomp_offsets.append(len(decomp_data))
            decomp_data.extend(ord(c) for c in d)
    decomp_offsets.append(len(decomp_data))

    compat_keys, compat_offsets, compat_data = [], [], []
    comp_keys, comp_vals = [], []
    for cp in range(MAX):
        if not nfd_known(cp) or 0xAC00 <= cp <= 0xD7A3:
            continue
        s = chr(cp)
        k = unicodedata.normalize("NFKD", s)
        if k != unicodedata.normalize("NFD", s):
            compat_keys.append(cp)
            compat_offsets.append(len(compat_data))
            compat_data.extend(ord(c) for c in k)
        dec = unicodedata.decomposition(s)
        if dec and not dec.startswith("<"):
            parts = [int(x, 16) for x in dec.split()]
            if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == s:
                comp_keys.append((parts[0] << 21) | parts[1])
                comp_vals.append(cp)
    compat_offsets.append(len(compat_data))
    order = sorted(range(len(comp_keys)), key=lambda i: comp_keys[i])
    comp_keys = [comp_keys[i] for i in order]
    comp_vals = [comp_vals[i] for i in order]

    lower_keys, lower_vals, multi = [], [], []
    for cp in sorted(LOWER_16):
        lo = LOWER_16[cp]
        lower_keys.append(cp)
        if len(lo) == 1:
            lower_vals.append(lo[0])
        else:
            # negative value = -(1 + index into LowercaseMulti, whose entries are length-prefixed)
            lower_vals.append(-(1 + len(multi)))
            multi.append(len(lo))
            multi.extend(lo)

    o = []
    o.append("// <auto-generated>")
    o.append("// Generated by tools/unicode/gen_unicode_tables.py from tools/unicode/hf_unicode_data.json and Python %s"
             % sys.version.split()[0])
    o.append("// unicodedata (Unicode %s): %s, the versions Hugging Face's Rust tokenizers use."
             % (unicodedata.unidata_version, VERSIONS))
    o.append("// Do not edit by hand: re-run the script from the repository root instead.")
    o.append("// </auto-generated>")
    o.append("namespace NativeTransformer.Tokenization;")
    o.append("")
    o.append("internal static partial class UnicodeTables")
    o.append("{")
    o.append("    /// <summary>Unicode versions of the tables, per property (those of HF's Rust tokenizers).</summary>")
    o.append("    public const string UnicodeVersions = \"%s\";" % VERSIONS)
    o.append("")
    o.append("    // Category flag ranges: 1 = Cc/Cf/Co, 2 = Mn, 4 = P*, 64 = Mn/Mc/Me of 9.0.0. Parallel arrays, sorted by start.")
    o.append("    private static ReadOnlySpan<int> CategoryStart => new int[] {")
    o.append(fmt_ints([r[0] for r in cat_ranges]))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> CategoryEnd => new int[] {")
    o.append(fmt_ints([r[1] for r in cat_ranges]))
    o.append("    };")
    o.append("    private static ReadOnlySpan<byte> CategoryFlags => new byte[] {")
    o.append(fmt_ints([r[2] for r in cat_ranges], 24))
    o.append("    };")
    o.append("")
    o.append("    // Canonical combining class ranges (ccc != 0).")
    o.append("    private static ReadOnlySpan<int> CccStart => new int[] {")
    o.append(fmt_ints([r[0] for r in ccc_ranges]))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> CccEnd => new int[] {")
    o.append(fmt_ints([r[1] for r in ccc_ranges]))
    o.append("    };")
    o.append("    private static ReadOnlySpan<byte> CccValue => new byte[] {")
    o.append(fmt_ints([r[2] for r in ccc_ranges], 24))
    o.append("    };")
    o.append("")
    o.append("    // Full canonical decompositions (NFD) of %d code points (Hangul syllables excluded)." % len(decomp_keys))
    o.append("    private static ReadOnlySpan<int> DecompositionKeys => new int[] {")
    o.append(fmt_ints(decomp_keys))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> DecompositionOffsets => new int[] {")
    o.append(fmt_ints(decomp_offsets))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> DecompositionData => new int[] {")
    o.append(fmt_ints(decomp_data))
    o.append("    };")
    o.append("")
    o.append("    // Full lowercase mappings of %d code points; a negative value -(1+i) points at LowercaseMulti[i]" % len(lower_keys))
    o.append("    // (a length followed by that many code points).")
    o.append("    private static ReadOnlySpan<int> LowercaseKeys => new int[] {")
    o.append(fmt_ints(lower_keys))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> LowercaseValues => new int[] {")
    o.append(fmt_ints(lower_vals).replace("0x-", "-0x"))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> LowercaseMulti => new int[] {")
    o.append(fmt_ints(multi))
    o.append("    };")
    o.append("")
    o.append("    // Full compatibility decompositions (NFKD) of %d code points whose NFKD differs from their NFD." % len(compat_keys))
    o.append("    private static ReadOnlySpan<int> CompatDecompositionKeys => new int[] {")
    o.append(fmt_ints(compat_keys))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> CompatDecompositionOffsets => new int[] {")
    o.append(fmt_ints(compat_offsets))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> CompatDecompositionData => new int[] {")
    o.append(fmt_ints(compat_data))
    o.append("    };")
    o.append("")
    o.append("    // %d primary composites: key (first << 21 | second), sorted, and the composite." % len(comp_keys))
    o.append("    private static ReadOnlySpan<long> CompositionKeys => new long[] {")
    o.append(fmt_ints(comp_keys, 8))
    o.append("    };")
    o.append("    private static ReadOnlySpan<int> CompositionValues => new int[] {")
    o.append(fmt_ints(comp_vals))
    o.append("    };")
    o.append("}")
    o.append("")
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(o))
    print("wrote %s: %d category ranges, %d ccc ranges, %d decompositions (%d cps), %d lowercase"
          % (os.path.normpath(OUT), len(cat_ranges), len(ccc_ranges), len(decomp_keys), len(decomp_data), len(lower_keys)))


if __name__ == "__main__":
    main()
