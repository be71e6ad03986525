namespace NativeTransformer.Tokenization;

/// <summary>
/// Unicode lookups the BERT normalizer and pre-tokenizer need, backed by generated tables
/// (<c>UnicodeTables.Generated.cs</c>, see tools/unicode/gen_unicode_tables.py). They do not use
/// <c>string.Normalize</c>, ICU or culture data, so they behave the same under InvariantGlobalization
/// and on every target framework.
/// Each property is deliberately frozen at the Unicode version Hugging Face's Rust tokenizers use for it, not the
/// latest: categories (other / Mn / punctuation) Unicode 8.0, NFD 9.0, lowercase 16.0 (<see cref="UnicodeVersions"/>;
/// docs/tokenizers.md, "WordPiece and Unicode versions"). Newer data would split or strip a few hundred code points
/// differently from the tokenizer the models were trained with.
/// </summary>
internal static partial class UnicodeTables
{
    private const byte FlagOther = 1, FlagMn = 2, FlagPunct = 4, FlagDecomp = 8, FlagLower = 16, FlagCcc = 32;

    /// <summary>Per-code-point flags of the BMP, expanded once from the range tables so hot paths avoid binary searches.</summary>
    private static readonly byte[] Bmp = BuildBmp();

    private static byte[] BuildBmp()
    {
        var t = new byte[0x10000];
        var cs = CategoryStart; var ce = CategoryEnd; var cf = CategoryFlags;
        for (int i = 0; i < cs.Length && cs[i] < 0x10000; i++)
            for (int c = cs[i]; c <= Math.Min(ce[i], 0xFFFF); c++) t[c] |= cf[i];
        var ks = CccStart; var ke = CccEnd;
        for (int i = 0; i < ks.Length && ks[i] < 0x10000; i++)
            for (int c = ks[i]; c <= Math.Min(ke[i], 0xFFFF); c++) t[c] |= FlagCcc;
        foreach (int k in DecompositionKeys) if (k < 0x10000) t[k] |= FlagDecomp;
        for (int c = SBase; c < SBase + SCount; c++) t[c] |= FlagDecomp;
        foreach (int k in LowercaseKeys) if (k < 0x10000) t[k] |= FlagLower;
        return t;
    }

    private static byte Flags(int cp)
    {
        if (cp < 0x10000) return Bmp[cp];
        int i = FindRange(CategoryStart, cp);
        return i >= 0 && cp <= CategoryEnd[i] ? CategoryFlags[i] : (byte)0;
    }

    /// <summary>Index of the last range whose start is &lt;= cp, or -1.</summary>
    private static int FindRange(ReadOnlySpan<int> starts, int cp)
    {
        int i = starts.BinarySearch(cp);
        return i >= 0 ? i : ~i - 1;
    }

    /// <summary>General category Cc, Cf or Co in Unicode 8.0 (what HF's BertNormalizer calls "other"; Cn and Cs are not included).</summary>
    public static bool IsOther(int cp) => cp < 0x20 || (cp >= 0x7F && (Flags(cp) & FlagOther) != 0);

    /// <summary>General category Mn (non-spacing mark) in Unicode 8.0.</summary>
    public static bool IsNonSpacingMark(int cp) => cp >= 0x300 && (Flags(cp) & FlagMn) != 0;

    /// <summary>Any punctuation category (Pc, Pd, Ps, Pe, Pi, Pf, Po) in Unicode 8.0.</summary>
    public static bool IsPunctuationCategory(int cp) => (Flags(cp) & FlagPunct) != 0;

    /// <summary>Canonical combining class (0 for starters).</summary>
    public static int CombiningClass(int cp)
    {
        if (cp < 0x300 || (cp < 0x10000 && (Bmp[cp] & FlagCcc) == 0)) return 0;
        int i = FindRange(CccStart, cp);
        return i >= 0 && cp <= CccEnd[i] ? CccValue[i] : 0;
    }

    /// <summary>Rust's <c>char::is_whitespace</c> (the Unicode White_Space property).</summary>
    public static bool IsWhiteSpace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, LCount = 19, VCount = 21, TCount = 28;
    private const int NCount = VCount * TCount, SCount = LCount * NCount;

    /// <summary>
    /// Writes the full canonical decomposition of <paramref name="cp"/> into <paramref name="dest"/> (at most 4
    /// code points in current Unicode; dest must hold 18) and returns its length, or 0 when the code point is
    /// its own decomposition.
    /// </summary>
    public static int Decompose(int cp, Span<int> dest)
    {
        if (cp < 0xC0 || (cp < 0x10000 && (Bmp[cp] & FlagDecomp) == 0)) return 0;
        int s = cp - SBase;
        if ((uint)s < SCount)
        {
            dest[0] = LBase + s / NCount;
            dest[1] = VBase + s % NCount / TCount;
            int t = s % TCount;
            if (t == 0) return 2;
            dest[2] = TBase + t;
            return 3;
        }
        int i = DecompositionKeys.BinarySearch(cp);
        if (i < 0) return 0;
        int start = DecompositionOffsets[i], len = DecompositionOffsets[i + 1] - start;
        DecompositionData.Slice(start, len).CopyTo(dest);
        return len;
    }

    /// <summary>
    /// Full lowercase mapping of one code point (Rust <c>char::to_lowercase</c>): writes 1..3 code points into
    /// <paramref name="dest"/> and returns the count.
    /// </summary>
    public static int ToLower(int cp, Span<int> dest)
    {
        if (cp < 0x80)
        {
            dest[0] = cp is >= 'A' and <= 'Z' ? cp + 32 : cp;
            return 1;
        }
        if (cp < 0x10000 && (Bmp[cp] & FlagLower) == 0) { dest[0] = cp; return 1; }
        int i = LowercaseKeys.BinarySearch(cp);
        if (i < 0) { dest[0] = cp; return 1; }
        int v = LowercaseValues[i];
        if (v >= 0) { dest[0] = v; return 1; }
        int at = -v - 1, len = LowercaseMulti[at];
        LowercaseMulti.Slice(at + 1, len).CopyTo(dest);
        return len;
    }
}
