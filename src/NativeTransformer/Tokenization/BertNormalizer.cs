namespace NativeTransformer.Tokenization;

/// <summary>
/// Hugging Face's <c>BertNormalizer</c> (tokenizers/src/normalizers/bert.rs), step for step and in the same order:
/// clean_text, handle_chinese_chars, strip_accents (NFD, then drop Mn), lowercase (full per-char mapping).
/// Works on code points; every output code point keeps the UTF-16 range of the original character it came from.
/// </summary>
/// <remarks>
/// Unpaired UTF-16 surrogates (which Rust strings cannot hold, so HF rejects them) are read as U+FFFD, which
/// clean_text then drops like HF drops U+FFFD; with clean_text off they stay as U+FFFD.
/// </remarks>
internal sealed class BertNormalizer
{
    private readonly bool _cleanText, _chinese, _stripAccents, _lowercase;

    public BertNormalizer(bool cleanText, bool handleChineseChars, bool stripAccents, bool lowercase)
    {
        _cleanText = cleanText;
        _chinese = handleChineseChars;
        _stripAccents = stripAccents;
        _lowercase = lowercase;
    }

    /// <summary>HF's is_chinese_char ranges (note 0x2B920, not 0x2B820, exactly as the Rust code has it).</summary>
    public static bool IsChineseChar(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    private static bool IsBertControl(int cp) => cp is not ('\t' or '\n' or '\r') && UnicodeTables.IsOther(cp);
    private static bool IsBertWhitespace(int cp) => UnicodeTables.IsWhiteSpace(cp);

    /// <summary>Normalizes text[start..end); alignments are absolute indices into <paramref name="text"/>.</summary>
    public NormalizedText Normalize(string text, int start, int end)
    {
        var outp = new NormalizedText(end - start + 8);
        Span<int> buf = stackalloc int[18];
        int i = start;
        while (i < end)
        {
            int cp, len;
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < end && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(c, text[i + 1]);
                len = 2;
            }
            else
            {
                cp = char.IsSurrogate(c) ? 0xFFFD : c;
                len = 1;
            }
            int s = i, e = i + len;
            i = e;

            if (_cleanText)
            {
                if (cp == 0 || cp == 0xFFFD || IsBertControl(cp)) continue;
                if (IsBertWhitespace(cp)) cp = ' ';
            }
            bool chinese = _chinese && IsChineseChar(cp);
            if (chinese) outp.Add(' ', s, e);
            if (_stripAccents)
            {
                int n = UnicodeTables.Decompose(cp, buf);
                if (n == 0) outp.Add(cp, s, e);
                else for (int k = 0; k < n; k++) outp.Add(buf[k], s, e);
            }
            else
            {
                outp.Add(cp, s, e);
            }
            if (chinese) outp.Add(' ', s, e);
        }

        if (_stripAccents)
        {
            CanonicalOrder(outp);
            Filter(outp);
        }
        if (_lowercase) Lowercase(outp, buf);
        return outp;
    }

    /// <summary>NFD canonical ordering: stable sort of every run of non-starters by combining class.</summary>
    private static void CanonicalOrder(NormalizedText t)
    {
        int n = t.Count;
        int i = 0;
        while (i < n)
        {
            if (UnicodeTables.CombiningClass(t.Chars[i]) == 0) { i++; continue; }
            int runStart = i;
            while (i < n && UnicodeTables.CombiningClass(t.Chars[i]) != 0) i++;
            if (i - runStart > 32) { SortLongRun(t, runStart, i); continue; }
            // insertion sort (real runs are short), stable
            for (int a = runStart + 1; a < i; a++)
            {
                int cp = t.Chars[a], st = t.Start[a], en = t.End[a], cc = UnicodeTables.CombiningClass(cp);
                int b = a - 1;
                while (b >= runStart && UnicodeTables.CombiningClass(t.Chars[b]) > cc)
                {
                    t.Chars[b + 1] = t.Chars[b]; t.Start[b + 1] = t.Start[b]; t.End[b + 1] = t.End[b];
                    b--;
                }
                t.Chars[b + 1] = cp; t.Start[b + 1] = st; t.End[b + 1] = en;
            }
        }
    }

    /// <summary>Stable O(n log n) sort of a long run of non-starters: insertion sort is quadratic, and a hostile
    /// text can be one run of a million combining marks (found by fuzzing: 1 MB took minutes).</summary>
    private static void SortLongRun(NormalizedText t, int from, int to)
    {
        int len = to - from;
        var keys = new long[len]; // (combining class, position): unique keys make the unstable Array.Sort stable
        var order = new int[len];
        for (int k = 0; k < len; k++) { keys[k] = ((long)UnicodeTables.CombiningClass(t.Chars[from + k]) << 32) | (uint)k; order[k] = k; }
        Array.Sort(keys, order);
        var chars = t.Chars.AsSpan(from, len).ToArray();
        var starts = t.Start.AsSpan(from, len).ToArray();
        var ends = t.End.AsSpan(from, len).ToArray();
        for (int k = 0; k < len; k++)
        {
            t.Chars[from + k] = chars[order[k]]; t.Start[from + k] = starts[order[k]]; t.End[from + k] = ends[order[k]];
        }
    }

    private static void Filter(NormalizedText t)
    {
        int w = 0;
        for (int r = 0; r < t.Count; r++)
        {
            if (UnicodeTables.IsNonSpacingMark(t.Chars[r])) continue;
            t.Chars[w] = t.Chars[r]; t.Start[w] = t.Start[r]; t.End[w] = t.End[r];
            w++;
        }
        t.Count = w;
    }

    private static void Lowercase(NormalizedText t, Span<int> buf)
    {
        // Only U+0130 grows (to 2 code points); rebuild the tail only when one is present.
        int r = 0;
        for (; r < t.Count; r++)
        {
            int cp = t.Chars[r];
            if (cp < 0x80) { if (cp is >= 'A' and <= 'Z') t.Chars[r] = cp + 32; continue; }
            if (UnicodeTables.ToLower(cp, buf) != 1) break;
            t.Chars[r] = buf[0];
        }
        if (r == t.Count) return;

        int tail = t.Count - r;
        var cps = t.Chars.AsSpan(r, tail).ToArray();
        var starts = t.Start.AsSpan(r, tail).ToArray();
        var ends = t.End.AsSpan(r, tail).ToArray();
        t.Count = r;
        for (int k = 0; k < tail; k++)
        {
            int n = UnicodeTables.ToLower(cps[k], buf);
            for (int m = 0; m < n; m++) t.Add(buf[m], starts[k], ends[k]);
        }
    }
}
