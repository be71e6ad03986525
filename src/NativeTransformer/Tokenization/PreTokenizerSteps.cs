using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>One step of a tokenizer.json "pre_tokenizer": splits every piece further (HF's pre_tokenizers/*.rs).</summary>
internal interface IPreTokenizerStep
{
    void Split(NormalizedText piece, List<NormalizedText> output);
}

internal static class PreTokenizerSteps
{
    public const string Supported = "Sequence, Metaspace, WhitespaceSplit";

    public static List<IPreTokenizerStep> Read(JsonElement? node, string where)
    {
        var steps = new List<IPreTokenizerStep>();
        if (node is { } n && n.ValueKind != JsonValueKind.Null) Add(n, where, steps, 0);
        return steps;
    }

    private static void Add(JsonElement n, string where, List<IPreTokenizerStep> steps, int depth)
    {
        if (depth > 16) throw new TokenizerException($"{where}: pre_tokenizer Sequences nested too deeply");
        string type = SpmJson.Type(n, where + " pre_tokenizer");
        switch (type)
        {
            case "Sequence":
                foreach (var c in SpmJson.Array(n, "pretokenizers", where + " pre_tokenizer Sequence").EnumerateArray()) Add(c, where, steps, depth + 1);
                break;
            case "Metaspace": steps.Add(MetaspaceStep.Read(n, where)); break;
            case "WhitespaceSplit": steps.Add(new WhitespaceSplitStep()); break;
            default:
                throw new TokenizerException($"{where}: pre_tokenizer type '{type}' is not supported here (supported: {Supported})");
        }
    }

    /// <summary>Code points [from, to) of <paramref name="t"/> as a new piece.</summary>
    public static NormalizedText Slice(NormalizedText t, int from, int to)
    {
        var o = new NormalizedText(to - from);
        Array.Copy(t.Chars, from, o.Chars, 0, to - from);
        Array.Copy(t.Start, from, o.Start, 0, to - from);
        Array.Copy(t.End, from, o.End, 0, to - from);
        o.Count = to - from;
        return o;
    }
}

/// <summary>HF's WhitespaceSplit: pieces are the maximal runs of non-white-space (Rust <c>char::is_whitespace</c>).</summary>
internal sealed class WhitespaceSplitStep : IPreTokenizerStep
{
    public void Split(NormalizedText piece, List<NormalizedText> output)
    {
        int start = -1;
        for (int i = 0; i <= piece.Count; i++)
        {
            bool ws = i == piece.Count || UnicodeTables.IsWhiteSpace(piece.Chars[i]);
            if (ws && start >= 0) { output.Add(PreTokenizerSteps.Slice(piece, start, i)); start = -1; }
            else if (!ws && start < 0) start = i;
        }
    }
}

/// <summary>
/// HF's Metaspace: every ' ' becomes the replacement (U+2581); the replacement is prepended to each piece
/// (prepend_scheme "always"), only to the piece starting the input ("first"), or never; then, when split is on,
/// the piece is cut before every replacement character (MergedWithNext). The legacy add_prefix_space true/false means
/// "always"/"never".
/// </summary>
internal sealed class MetaspaceStep : IPreTokenizerStep
{
    private enum Prepend { Always, First, Never }
    private readonly int _replacement;
    private readonly Prepend _prepend;
    private readonly bool _split;

    private MetaspaceStep(int replacement, Prepend prepend, bool split)
    {
        _replacement = replacement;
        _prepend = prepend;
        _split = split;
    }

    /// <summary>Metaspace with sentencepiece's defaults (add_dummy_prefix as given), for .model files.</summary>
    public static MetaspaceStep SentencePieceDefault(bool addDummyPrefix) => new(0x2581, addDummyPrefix ? Prepend.Always : Prepend.Never, true);

    public static MetaspaceStep Read(JsonElement n, string where)
    {
        string w = where + " Metaspace pre_tokenizer";
        string rep = SpmJson.OptionalString(n, "replacement", w) ?? "\u2581";
        var runes = rep.EnumerateRunes().ToList();
        if (runes.Count != 1) throw new TokenizerException($"{w}: 'replacement' must be one character, not '{rep}'");
        Prepend scheme;
        string? ps = SpmJson.OptionalString(n, "prepend_scheme", w);
        if (ps != null)
            scheme = ps switch
            {
                "always" => Prepend.Always,
                "first" => Prepend.First,
                "never" => Prepend.Never,
                _ => throw new TokenizerException($"{w}: prepend_scheme '{ps}' is not one of always, first, never"),
            };
        else scheme = SpmJson.Bool(n, "add_prefix_space", true, w) ? Prepend.Always : Prepend.Never;
        return new MetaspaceStep(runes[0].Value, scheme, SpmJson.Bool(n, "split", true, w));
    }

    public void Split(NormalizedText piece, List<NormalizedText> output)
    {
        if (piece.Count == 0) return;
        bool prepend = piece.Chars[0] != _replacement && piece.Chars[0] != ' '
            && (_prepend == Prepend.Always || (_prepend == Prepend.First && piece.Start[0] == 0));
        var t = new NormalizedText(piece.Count + 1);
        if (prepend) t.Add(_replacement, piece.Start[0], piece.Start[0]);
        for (int i = 0; i < piece.Count; i++)
            t.Add(piece.Chars[i] == ' ' ? _replacement : piece.Chars[i], piece.Start[i], piece.End[i]);
        if (!_split) { output.Add(t); return; }
        int start = 0;
        for (int i = 1; i < t.Count; i++)
            if (t.Chars[i] == _replacement) { output.Add(PreTokenizerSteps.Slice(t, start, i)); start = i; }
        output.Add(PreTokenizerSteps.Slice(t, start, t.Count));
    }
}
