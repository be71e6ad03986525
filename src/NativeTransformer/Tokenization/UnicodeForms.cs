namespace NativeTransformer.Tokenization;

internal static partial class UnicodeTables
{
    private const byte FlagMark9 = 64;

    /// <summary>General category M (Mn, Mc or Me) of Unicode 9.0 (unicode-normalization-alignments' is_combining_mark):
    /// what HF's StripAccents removes (BertNormalizer drops only Mn, of Unicode 8.0).</summary>
    public static bool IsMark(int cp) => cp >= 0x300 && (Flags(cp) & FlagMark9) != 0;

    /// <summary>Full compatibility decomposition (NFKD) of one code point into <paramref name="dest"/> (18 slots);
    /// returns its length, or 0 when the code point is its own decomposition.</summary>
    public static int DecomposeCompat(int cp, Span<int> dest)
    {
        if (cp >= 0xA0)
        {
            int i = CompatDecompositionKeys.BinarySearch(cp);
            if (i >= 0)
            {
                int start = CompatDecompositionOffsets[i], len = CompatDecompositionOffsets[i + 1] - start;
                CompatDecompositionData.Slice(start, len).CopyTo(dest);
                return len;
            }
        }
        return Decompose(cp, dest);
    }

    /// <summary>The primary composite of <paramref name="first"/> + <paramref name="second"/>, or -1.</summary>
    public static int Compose(int first, int second)
    {
        int l = first - LBase, v = second - VBase;
        if ((uint)l < LCount && (uint)v < VCount) return SBase + (l * VCount + v) * TCount;
        int s = first - SBase, t = second - TBase;
        if ((uint)s < SCount && s % TCount == 0 && t > 0 && t < TCount) return first + t;
        int i = CompositionKeys.BinarySearch(((long)first << 21) | (uint)second);
        return i >= 0 ? CompositionValues[i] : -1;
    }
}

/// <summary>
/// The four Unicode normalization forms on a <see cref="NormalizedText"/>, from the generated tables (under
/// InvariantGlobalization <c>string.Normalize</c> is a silent no-op). Decomposed code points keep the original range
/// of the character they came from; a composite spans the ranges of the characters it joins.
/// </summary>
internal static class UnicodeForms
{
    public static NormalizedText Apply(NormalizedText input, bool compat, bool compose)
    {
        var output = new NormalizedText(input.Count + 8);
        Span<int> buf = stackalloc int[18];
        for (int i = 0; i < input.Count; i++)
        {
            int cp = input.Chars[i];
            int n = compat ? UnicodeTables.DecomposeCompat(cp, buf) : UnicodeTables.Decompose(cp, buf);
            if (n == 0) { buf[0] = cp; n = 1; }
            for (int k = 0; k < n; k++) output.Add(buf[k], input.Start[i], input.End[i]);
        }
        CanonicalOrder(output);
        if (compose) Compose(output);
        return output;
    }

    /// <summary>Stable sort of every run of non-starters by combining class (the canonical ordering algorithm).</summary>
    private static void CanonicalOrder(NormalizedText t)
    {
        for (int i = 1; i < t.Count; i++)
        {
            int ccc = UnicodeTables.CombiningClass(t.Chars[i]);
            if (ccc == 0) continue;
            int j = i;
            while (j > 0 && UnicodeTables.CombiningClass(t.Chars[j - 1]) > ccc)
            {
                (t.Chars[j], t.Chars[j - 1]) = (t.Chars[j - 1], t.Chars[j]);
                (t.Start[j], t.Start[j - 1]) = (t.Start[j - 1], t.Start[j]);
                (t.End[j], t.End[j - 1]) = (t.End[j - 1], t.End[j]);
                j--;
            }
        }
    }

    /// <summary>The canonical composition algorithm (UAX #15), in place.</summary>
    private static void Compose(NormalizedText t)
    {
        int starter = -1, write = 0, lastCcc = 0;
        for (int i = 0; i < t.Count; i++)
        {
            int cp = t.Chars[i], ccc = UnicodeTables.CombiningClass(cp);
            // Not blocked: adjacent to the last starter, or every character between has a lower, non-zero class.
            bool blocked = write - 1 != starter && lastCcc >= ccc;
            if (starter >= 0 && !blocked)
            {
                int composite = UnicodeTables.Compose(t.Chars[starter], cp);
                if (composite >= 0)
                {
                    t.Chars[starter] = composite;
                    t.Start[starter] = Math.Min(t.Start[starter], t.Start[i]);
                    t.End[starter] = Math.Max(t.End[starter], t.End[i]);
                    continue;
                }
            }
            if (ccc == 0) starter = write;
            lastCcc = ccc;
            t.Chars[write] = cp; t.Start[write] = t.Start[i]; t.End[write] = t.End[i];
            write++;
        }
        t.Count = write;
    }
}
