using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NativeTransformer.Tokenization;

/// <summary>One step of a tokenizer.json "normalizer" (HF's normalizers/*.rs), on aligned code points.</summary>
internal interface INormalizerStep
{
    NormalizedText Apply(NormalizedText input);
}

/// <summary>Reads tokenizer.json "normalizer" objects into steps.</summary>
internal static class NormalizerSteps
{
    public const string Supported = "Sequence, Precompiled, Replace, NFD, NFKD, NFC, NFKC, StripAccents, Lowercase, Strip, Prepend";

    /// <summary>The steps of <paramref name="node"/> (null / JSON null = none), flattened.</summary>
    public static List<INormalizerStep> Read(JsonElement? node, string where)
    {
        var steps = new List<INormalizerStep>();
        if (node is { } n && n.ValueKind != JsonValueKind.Null) Add(n, where, steps, 0);
        return steps;
    }

    private static void Add(JsonElement n, string where, List<INormalizerStep> steps, int depth)
    {
        if (depth > 16) throw new TokenizerException($"{where}: normalizer Sequences nested too deeply");
        string type = SpmJson.Type(n, where + " normalizer");
        switch (type)
        {
            case "Sequence":
                foreach (var c in SpmJson.Array(n, "normalizers", where + " normalizer Sequence").EnumerateArray()) Add(c, where, steps, depth + 1);
                break;
            case "Precompiled":
                var map = SpmJson.String(n, "precompiled_charsmap", where + " Precompiled normalizer");
                // An empty charsmap is what HF writes for models without normalization rules: identity.
                if (map.Length > 0) steps.Add(new PrecompiledStep(PrecompiledCharsMap.FromBase64(map, where)));
                break;
            case "Replace": steps.Add(ReplaceStep.Read(n, where)); break;
            case "NFD": steps.Add(new FormStep(false, false)); break;
            case "NFKD": steps.Add(new FormStep(true, false)); break;
            case "NFC": steps.Add(new FormStep(false, true)); break;
            case "NFKC": steps.Add(new FormStep(true, true)); break;
            case "StripAccents": steps.Add(new StripAccentsStep()); break;
            case "Lowercase": steps.Add(new LowercaseStep()); break;
            case "Strip":
                steps.Add(new StripStep(SpmJson.Bool(n, "strip_left", true), SpmJson.Bool(n, "strip_right", true)));
                break;
            case "Prepend":
                steps.Add(new PrependStep(SpmJson.String(n, "prepend", where + " Prepend normalizer")));
                break;
            default:
                throw new TokenizerException($"{where}: normalizer type '{type}' is not supported here (supported: {Supported})");
        }
    }

    /// <summary>The text[start..end) as code points aligned to themselves; lone surrogates read as U+FFFD.</summary>
    public static NormalizedText FromOriginal(string text, int start, int end) => FromOriginal(text, start, end, new NormalizedText(end - start + 8));

    /// <summary>As <see cref="FromOriginal(string, int, int)"/>, into <paramref name="t"/> (cleared first).</summary>
    public static NormalizedText FromOriginal(string text, int start, int end, NormalizedText t)
    {
        t.Count = 0;
        int i = start;
        while (i < end)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < end && char.IsLowSurrogate(text[i + 1]))
            {
                t.Add(char.ConvertToUtf32(c, text[i + 1]), i, i + 2);
                i += 2;
            }
            else
            {
                t.Add(char.IsSurrogate(c) ? 0xFFFD : c, i, i + 1);
                i++;
            }
        }
        return t;
    }

    /// <summary>Code points [from, to) as a string, and the code-point index of every UTF-16 unit.</summary>
    public static string ToUtf16(NormalizedText t, int from, int to, List<int>? unitToChar)
    {
        var sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++)
        {
            int before = sb.Length;
            var r = new Rune(t.Chars[i]);
            if (r.IsBmp) sb.Append((char)r.Value); else sb.Append(r.ToString());
            if (unitToChar != null) for (int k = before; k < sb.Length; k++) unitToChar.Add(i);
        }
        return sb.ToString();
    }
}

internal sealed class PrecompiledStep(PrecompiledCharsMap map) : INormalizerStep
{
    public NormalizedText Apply(NormalizedText input) => map.Apply(input);
}

internal sealed class FormStep(bool compat, bool compose) : INormalizerStep
{
    public NormalizedText Apply(NormalizedText input) => UnicodeForms.Apply(input, compat, compose);
}

/// <summary>HF's StripAccents: drops every code point of general category M (Mn, Mc, Me).</summary>
internal sealed class StripAccentsStep : INormalizerStep
{
    public NormalizedText Apply(NormalizedText input)
    {
        var o = new NormalizedText(input.Count);
        for (int i = 0; i < input.Count; i++)
            if (!UnicodeTables.IsMark(input.Chars[i])) o.Add(input.Chars[i], input.Start[i], input.End[i]);
        return o;
    }
}

internal sealed class LowercaseStep : INormalizerStep
{
    public NormalizedText Apply(NormalizedText input)
    {
        var o = new NormalizedText(input.Count + 4);
        Span<int> buf = stackalloc int[4];
        for (int i = 0; i < input.Count; i++)
        {
            int n = UnicodeTables.ToLower(input.Chars[i], buf);
            for (int k = 0; k < n; k++) o.Add(buf[k], input.Start[i], input.End[i]);
        }
        return o;
    }
}

/// <summary>HF's Strip: removes leading / trailing white space (Rust <c>char::is_whitespace</c>).</summary>
internal sealed class StripStep(bool left, bool right) : INormalizerStep
{
    public NormalizedText Apply(NormalizedText input)
    {
        int from = 0, to = input.Count;
        if (left) while (from < to && UnicodeTables.IsWhiteSpace(input.Chars[from])) from++;
        if (right) while (to > from && UnicodeTables.IsWhiteSpace(input.Chars[to - 1])) to--;
        if (from == 0 && to == input.Count) return input;
        var o = new NormalizedText(to - from);
        for (int i = from; i < to; i++) o.Add(input.Chars[i], input.Start[i], input.End[i]);
        return o;
    }
}

/// <summary>HF's Prepend: puts a string before non-empty text; it spans nothing of the original (an empty range at
/// the start of the first character).</summary>
internal sealed class PrependStep(string prefix) : INormalizerStep
{
    public NormalizedText Apply(NormalizedText input)
    {
        if (input.Count == 0) return input;
        var o = new NormalizedText(input.Count + prefix.Length);
        foreach (var r in prefix.EnumerateRunes()) o.Add(r.Value, input.Start[0], input.Start[0]);
        for (int i = 0; i < input.Count; i++) o.Add(input.Chars[i], input.Start[i], input.End[i]);
        return o;
    }
}

/// <summary>HF's Replace: every non-overlapping match of a literal string or a regex, left to right, becomes
/// <c>content</c>; the replacement spans the original range of the match.</summary>
internal sealed class ReplaceStep : INormalizerStep
{
    private readonly string? _literal;
    private readonly Regex? _regex;
    private readonly int[] _content;

    private ReplaceStep(string? literal, Regex? regex, string content)
    {
        _literal = literal;
        _regex = regex;
        var list = new List<int>();
        foreach (var r in content.EnumerateRunes()) list.Add(r.Value);
        _content = list.ToArray();
    }

    public static ReplaceStep Literal(string pattern, string content) => new(pattern, null, content);

    /// <summary>Runs of two or more <paramref name="c"/> become one (sentencepiece's remove_extra_whitespaces).</summary>
    public static ReplaceStep Collapse(char c) =>
        new(null, new Regex(Regex.Escape(c.ToString()) + "{2,}", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), c.ToString());

    public static ReplaceStep Read(JsonElement n, string where)
    {
        string w = where + " Replace normalizer";
        string content = SpmJson.String(n, "content", w);
        if (!n.TryGetProperty("pattern", out var p) || p.ValueKind != JsonValueKind.Object)
            throw new TokenizerException($"{w}: 'pattern' must be an object with \"String\" or \"Regex\"");
        if (p.TryGetProperty("String", out var s) && s.ValueKind == JsonValueKind.String)
        {
            if (s.GetString()!.Length == 0) throw new TokenizerException($"{w}: the String pattern is empty");
            return new ReplaceStep(s.GetString(), null, content);
        }
        if (p.TryGetProperty("Regex", out var r) && r.ValueKind == JsonValueKind.String)
        {
            try
            {
                return new ReplaceStep(null, new Regex(r.GetString()!, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), content);
            }
            catch (ArgumentException e) { throw new TokenizerException($"{w}: invalid Regex pattern '{r.GetString()}'", e); }
        }
        throw new TokenizerException($"{w}: 'pattern' must hold a \"String\" or \"Regex\" string");
    }

    public NormalizedText Apply(NormalizedText input)
    {
        var map = new List<int>(input.Count + 4);
        string s = NormalizerSteps.ToUtf16(input, 0, input.Count, map);
        var o = new NormalizedText(input.Count + 4);
        int copied = 0; // code points of input written so far
        void CopyUpTo(int unit)
        {
            int until = unit >= map.Count ? input.Count : map[unit];
            for (; copied < until; copied++) o.Add(input.Chars[copied], input.Start[copied], input.End[copied]);
        }
        void Replace(int index, int length)
        {
            CopyUpTo(index);
            int last = map[index + length - 1];
            int start = input.Start[copied], end = input.End[last];
            foreach (int c in _content) o.Add(c, start, end);
            copied = last + 1;
        }
        if (_literal != null)
        {
            int at = 0;
            while ((at = s.IndexOf(_literal, at, StringComparison.Ordinal)) >= 0) { Replace(at, _literal.Length); at += _literal.Length; }
        }
        else
        {
            try
            {
                for (var m = _regex!.Match(s); m.Success; m = m.NextMatch())
                    if (m.Length > 0) Replace(m.Index, m.Length);
            }
            catch (RegexMatchTimeoutException e) { throw new InputException($"Replace normalizer regex timed out on a {s.Length}-character input: {e.Message}"); }
        }
        CopyUpTo(map.Count);
        return o;
    }
}
