using System.Text;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>One input on which our tokenizer and the reference disagree.</summary>
internal sealed record OracleDifference(string Mode, string Input, string? Pair, int[]? Ours, int[] Theirs, string? OurError);

/// <summary>Runs inputs through our tokenizer and HF's, and collects every disagreement on the ids.</summary>
internal sealed class OracleComparison(ITokenizer ours, HfOracleTokenizer theirs)
{
    public List<OracleDifference> Differences { get; } = [];
    public int Compared { get; private set; }
    /// <summary>Inputs not compared because they hold a lone surrogate, which the reference cannot take.</summary>
    public int SkippedLoneSurrogates { get; private set; }

    /// <summary>Compares the single-text encodings without special tokens, and with them unless
    /// <paramref name="withSpecial"/> is false.</summary>
    public void Single(string text, bool withSpecial = true)
    {
        if (HasLoneSurrogate(text)) { SkippedLoneSurrogates++; return; }
        Compared++;
        Check("no-special", text, null, () => ours.EncodeIdsNoSpecial(text), theirs.EncodeNoSpecial(text));
        if (withSpecial) Check("special", text, null, () => ours.Encode(text).Ids, theirs.EncodeWithSpecial(text));
    }

    /// <summary>Compares the pair encoding (with special tokens); false when the reference cannot assemble pairs.</summary>
    public bool Pair(string text, string pair)
    {
        if (HasLoneSurrogate(text) || HasLoneSurrogate(pair)) { SkippedLoneSurrogates++; return true; }
        var expected = theirs.EncodePair(text, pair);
        if (expected is null) return false;
        Compared++;
        Check("pair", text, pair, () => ours.Encode(text, pair).Ids, expected);
        return true;
    }

    private void Check(string mode, string text, string? pair, Func<int[]> encode, int[] expected)
    {
        int[]? actual = null;
        string? error = null;
        try { actual = encode(); }
        catch (Exception e) { error = e.GetType().Name + ": " + e.Message; }
        if (actual is null || !actual.AsSpan().SequenceEqual(expected))
            Differences.Add(new OracleDifference(mode, text, pair, actual, expected, error));
    }

    public static bool HasLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return true;
        }
        return false;
    }

    /// <summary>The first <paramref name="max"/> differences, one per line, with inputs escaped so that controls and
    /// invisible characters show.</summary>
    public string Report(string title, int max = 20)
    {
        var sb = new StringBuilder();
        sb.Append($"{title}: {Differences.Count} difference(s) in {Compared} compared inputs");
        if (SkippedLoneSurrogates > 0) sb.Append($" ({SkippedLoneSurrogates} with lone surrogates skipped)");
        foreach (var d in Differences.Take(max))
        {
            sb.Append($"\n  [{d.Mode}] input {Escape(d.Input)}");
            if (d.Pair is not null) sb.Append($" + {Escape(d.Pair)}");
            sb.Append($"\n    ours   {(d.Ours is null ? d.OurError : string.Join(' ', d.Ours))}");
            sb.Append($"\n    theirs {string.Join(' ', d.Theirs)}");
        }
        if (Differences.Count > max) sb.Append($"\n  ... and {Differences.Count - max} more");
        return sb.ToString();
    }

    /// <summary>Printable ASCII as is, everything else as \u{XXXX}; long inputs shortened.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder("\"");
        int shown = 0;
        for (int i = 0; i < s.Length && shown < 120; i += char.IsSurrogatePair(s, i) ? 2 : 1, shown++)
        {
            int cp = char.IsSurrogatePair(s, i) ? char.ConvertToUtf32(s, i) : s[i];
            if (cp is >= 0x20 and < 0x7F && cp != '\\' && cp != '"') sb.Append((char)cp);
            else sb.Append($"\\u{{{cp:X4}}}");
        }
        if (shown >= 120 && s.Length > shown) sb.Append("…");
        return sb.Append('"').ToString();
    }
}
