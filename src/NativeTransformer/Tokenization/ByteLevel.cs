using System.Globalization;

namespace NativeTransformer.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet and pre-tokenizer (HF's ByteLevel pre-tokenizer): every UTF-8 byte is shown as one
/// printable character (space becomes 'Ġ'), and text is split with GPT-2's pattern
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, hand-written here (no regex:
/// one linear pass, and no backtracking to bound).
/// </summary>
internal static class ByteLevel
{
    /// <summary>Byte → its character (GPT-2's bytes_to_unicode).</summary>
    public static readonly char[] ByteToChar = BuildTable();

    private static char[] BuildTable()
    {
        var t = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            t[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return t;
    }

    private enum Kind : byte { Letter, Number, Space, Other }

    private static Kind Classify(int cp)
    {
        if (cp < 0x80)
        {
            if (cp is >= 'a' and <= 'z' or >= 'A' and <= 'Z') return Kind.Letter;
            if (cp is >= '0' and <= '9') return Kind.Number;
            if (cp is ' ' or (>= 0x09 and <= 0x0D)) return Kind.Space;
            return Kind.Other;
        }
        if (UnicodeTables.IsWhiteSpace(cp)) return Kind.Space;
        switch (CharUnicodeInfo.GetUnicodeCategory(cp))
        {
            case UnicodeCategory.UppercaseLetter: case UnicodeCategory.LowercaseLetter: case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter: case UnicodeCategory.OtherLetter:
                return Kind.Letter;
            case UnicodeCategory.DecimalDigitNumber: case UnicodeCategory.LetterNumber: case UnicodeCategory.OtherNumber:
                return Kind.Number;
            default:
                return Kind.Other;
        }
    }

    /// <summary>Code point at <paramref name="i"/> and its length in UTF-16 units; a lone surrogate reads as U+FFFD
    /// (what its UTF-8 encoding in .NET gives).</summary>
    public static int CodePointAt(string s, int i, int end, out int length)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < end && char.IsLowSurrogate(s[i + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        length = 1;
        return char.IsSurrogate(c) ? 0xFFFD : c;
    }

    /// <summary>Calls <paramref name="word"/> with the [start, end) UTF-16 ranges of the GPT-2 pre-tokens of
    /// <c>text[start..end)</c>.</summary>
    public static void Split<TState>(string text, int start, int end, ref TState state, WordSink<TState> word)
    {
        int i = start;
        while (i < end)
        {
            int cp = CodePointAt(text, i, end, out int len);
            // 1. contractions
            if (cp == '\'' && i + 1 < end)
            {
                int n = Contraction(text, i + 1, end);
                if (n > 0) { word(ref state, i, i + 1 + n); i += 1 + n; continue; }
            }
            // 2-4. an optional space, then a run of letters / numbers / others
            if (cp == ' ' && i + 1 < end)
            {
                var next = Classify(CodePointAt(text, i + 1, end, out _));
                if (next != Kind.Space)
                {
                    int e = Run(text, i + 1, end, next);
                    word(ref state, i, e);
                    i = e;
                    continue;
                }
            }
            var k = Classify(cp);
            if (k != Kind.Space)
            {
                int e = Run(text, i, end, k);
                word(ref state, i, e);
                i = e;
                continue;
            }
            // 5-6. whitespace: the run, less its last character when a non-space follows (\s+(?!\S)); a single
            // whitespace before a non-space is a word of its own (\s+)
            int runEnd = i, last = i;
            while (runEnd < end)
            {
                int c = CodePointAt(text, runEnd, end, out int l);
                if (Classify(c) != Kind.Space) break;
                last = runEnd;
                runEnd += l;
            }
            if (runEnd < end && last > i) runEnd = last;
            word(ref state, i, runEnd);
            i = runEnd;
        }
    }

    public delegate void WordSink<TState>(ref TState state, int start, int end);

    private static int Run(string text, int i, int end, Kind kind)
    {
        while (i < end)
        {
            int c = CodePointAt(text, i, end, out int l);
            if (Classify(c) != kind) break;
            i += l;
        }
        return i;
    }

    /// <summary>Length of a contraction suffix (s, t, re, ve, m, ll, d; lowercase only, as GPT-2's pattern) at <paramref name="i"/>.</summary>
    private static int Contraction(string t, int i, int end)
    {
        char a = t[i];
        char b = i + 1 < end ? t[i + 1] : '\0';
        if (a is 's' or 't' or 'm' or 'd') return 1;
        if ((a == 'r' || a == 'v') && b == 'e') return 2;
        if (a == 'l' && b == 'l') return 2;
        return 0;
    }
}
