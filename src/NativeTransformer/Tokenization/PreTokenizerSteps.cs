using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>One step of a tokenizer.json "pre_tokenizer": splits every piece further (HF's pre_tokenizers/*.rs).
/// Pieces are ranges of code points in a buffer shared by all pieces of one input, so that splitting a sentence into
/// words allocates nothing once the per-thread buffers have grown.</summary>
internal interface IPreTokenizerStep
{
    /// <summary>Appends the pieces of <paramref name="input"/>[from..to) to <paramref name="output"/> (code points
    /// with their alignments) and their code-point ranges in it to <paramref name="pieces"/>.</summary>
    void Split(NormalizedText input, int from, int to, NormalizedText output, List<(int From, int To)> pieces);
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

    /// <summary>Runs <paramref name="steps"/> over <paramref name="input"/>, ping-ponging between two buffers;
    /// returns the buffer holding the final pieces, whose ranges are left in <paramref name="pieces"/>.</summary>
    public static NormalizedText Run(List<IPreTokenizerStep> steps, NormalizedText input, Buffers b, out List<(int From, int To)> pieces)
    {
        var current = input;
        pieces = b.RangesA;
        pieces.Clear();
        pieces.Add((0, input.Count));
        var next = b.TextA;
        var nextPieces = b.RangesB;
        foreach (var step in steps)
        {
            next.Count = 0;
            nextPieces.Clear();
            foreach (var (from, to) in pieces) step.Split(current, from, to, next, nextPieces);
            (current, pieces, nextPieces) = (next, nextPieces, pieces);
            next = ReferenceEquals(current, b.TextA) ? b.TextB : b.TextA;
        }
        return current;
    }

    /// <summary>Per-thread buffers of <see cref="Run"/>.</summary>
    public sealed class Buffers
    {
        public readonly NormalizedText TextA = new(256), TextB = new(256);
        public readonly List<(int From, int To)> RangesA = new(), RangesB = new();
    }

    /// <summary>Copies code points [from, to) of <paramref name="t"/> to the end of <paramref name="o"/>.</summary>
    public static void Append(NormalizedText t, int from, int to, NormalizedText o)
    {
        for (int i = from; i < to; i++) o.Add(t.Chars[i], t.Start[i], t.End[i]);
    }
}

/// <summary>HF's WhitespaceSplit: pieces are the maximal runs of non-white-space (Rust <c>char::is_whitespace</c>).</summary>
internal sealed class WhitespaceSplitStep : IPreTokenizerStep
{
    public void Split(NormalizedText input, int from, int to, NormalizedText output, List<(int From, int To)> pieces)
    {
        int start = -1;
        for (int i = from; i <= to; i++)
        {
            bool ws = i == to || UnicodeTables.IsWhiteSpace(input.Chars[i]);
            if (ws && start >= 0)
            {
                int at = output.Count;
                PreTokenizerSteps.Append(input, start, i, output);
                pieces.Add((at, output.Count));
                start = -1;
            }
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

    public void Split(NormalizedText input, int from, int to, NormalizedText output, List<(int From, int To)> pieces)
    {
        if (to == from) return;
        bool prepend = input.Chars[from] != _replacement && input.Chars[from] != ' '
            && (_prepend == Prepend.Always || (_prepend == Prepend.First && input.Start[from] == 0));
        int start = output.Count;
        if (prepend) output.Add(_replacement, input.Start[from], input.Start[from]);
        for (int i = from; i < to; i++)
        {
            int c = input.Chars[i] == ' ' ? _replacement : input.Chars[i];
            // MergedWithNext: a new piece starts at every replacement but the first character.
            if (_split && c == _replacement && output.Count > start) { pieces.Add((start, output.Count)); start = output.Count; }
            output.Add(c, input.Start[i], input.End[i]);
        }
        pieces.Add((start, output.Count));
    }
}
