using System.Runtime.InteropServices;

namespace NativeTransformer.Tokenization;

/// <summary>
/// The post-processor of a tokenizer.json pipeline as one template: the special tokens put around a text or a pair,
/// the type id of every part, and (byte-level families) the trimming of spaces out of offsets.
/// TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and Sequence all reduce to this
/// (<see cref="PostProcessorJson"/> reads them).
/// </summary>
internal sealed class TemplatePostProcessor
{
    /// <summary>One item of a template: a sequence (<see cref="Sequence"/> 0 = A, 1 = B) or a special token that
    /// expands to <see cref="Ids"/> / <see cref="Tokens"/> (usually one of each).</summary>
    public sealed record Piece(int Sequence, int TypeId, int[] Ids, string[] Tokens)
    {
        public bool IsSequence => Sequence >= 0;
        public static Piece Seq(int sequence, int typeId) => new(sequence, typeId, [], []);
        public static Piece Special(string token, int id, int typeId) => new(-1, typeId, [id], [token]);
    }

    private readonly Piece[] _single;
    private readonly Piece[] _pair;

    /// <param name="single">Template for one text; must hold sequence A once.</param>
    /// <param name="pair">Template for a pair; must hold A and B once each.</param>
    /// <param name="trimOffsets">Byte-level offset trimming: offsets leave out the leading/trailing spaces ('Ġ') of a token.</param>
    /// <param name="addPrefixSpace">With <paramref name="trimOffsets"/>: a single leading space of a segment's first token
    /// was added by the pre-tokenizer and is kept (HF's process_offsets rule).</param>
    public TemplatePostProcessor(IReadOnlyList<Piece> single, IReadOnlyList<Piece> pair, bool trimOffsets = false, bool addPrefixSpace = false)
    {
        _single = [.. single];
        _pair = [.. pair];
        Check(_single, 1, "single");
        Check(_pair, 2, "pair");
        TrimOffsets = trimOffsets;
        AddPrefixSpace = addPrefixSpace;
    }

    private static void Check(Piece[] template, int sequences, string what)
    {
        for (int s = 0; s < 2; s++)
        {
            int n = template.Count(p => p.Sequence == s);
            int want = s < sequences ? 1 : 0;
            if (n != want)
                throw new TokenizerException($"post_processor: the {what} template must hold ${(s == 0 ? "A" : "B")} {want} time(s), found {n}");
        }
        foreach (var p in template)
            if (!p.IsSequence && (p.Ids.Length == 0 || p.Ids.Length != p.Tokens.Length))
                throw new TokenizerException($"post_processor: special token '{string.Join(" ", p.Tokens)}' of the {what} template has {p.Ids.Length} ids for {p.Tokens.Length} tokens");
    }

    public bool TrimOffsets { get; }
    public bool AddPrefixSpace { get; }

    /// <summary>No special tokens, type id 0 (tokenizer.json "post_processor": null).</summary>
    public static TemplatePostProcessor None(bool trimOffsets = false, bool addPrefixSpace = false) =>
        new([Piece.Seq(0, 0)], [Piece.Seq(0, 0), Piece.Seq(1, 1)], trimOffsets, addPrefixSpace);

    /// <summary>BERT: <c>[CLS] $A [SEP]</c> / <c>[CLS] $A [SEP] $B:1 [SEP]:1</c>.</summary>
    public static TemplatePostProcessor Bert(string cls, int clsId, string sep, int sepId) => new(
        [Piece.Special(cls, clsId, 0), Piece.Seq(0, 0), Piece.Special(sep, sepId, 0)],
        [Piece.Special(cls, clsId, 0), Piece.Seq(0, 0), Piece.Special(sep, sepId, 0), Piece.Seq(1, 1), Piece.Special(sep, sepId, 1)]);

    /// <summary>RoBERTa: <c>&lt;s&gt; $A &lt;/s&gt;</c> / <c>&lt;s&gt; $A &lt;/s&gt; &lt;/s&gt; $B &lt;/s&gt;</c>, every type id 0.</summary>
    /// <remarks>tokenizers-rs gives the second part of a pair type id 1, but transformers never hands RoBERTa
    /// token_type_ids (not in its model_input_names) and the model has type_vocab_size 1, so what the model sees is 0
    /// everywhere; the oracle reference (reference/roberta-mini-sst2, a pair included) holds 0.</remarks>
    public static TemplatePostProcessor Roberta(string cls, int clsId, string sep, int sepId, bool trimOffsets, bool addPrefixSpace) => new(
        [Piece.Special(cls, clsId, 0), Piece.Seq(0, 0), Piece.Special(sep, sepId, 0)],
        [Piece.Special(cls, clsId, 0), Piece.Seq(0, 0), Piece.Special(sep, sepId, 0), Piece.Special(sep, sepId, 0), Piece.Seq(1, 0), Piece.Special(sep, sepId, 0)],
        trimOffsets, addPrefixSpace);

    /// <summary>The same templates with other offset trimming (a Sequence of ByteLevel and a template processor).</summary>
    public TemplatePostProcessor WithTrimOffsets(bool trimOffsets, bool addPrefixSpace) => new(_single, _pair, trimOffsets, addPrefixSpace);

    /// <summary>Number of special tokens added around a text or a pair.</summary>
    public int SpecialTokenCount(bool pair)
    {
        int n = 0;
        foreach (var p in pair ? _pair : _single) n += p.Ids.Length;
        return n;
    }

    /// <summary>Every special token id the templates emit (for checks against the vocabulary).</summary>
    public IEnumerable<(string Token, int Id)> SpecialTokens() =>
        _single.Concat(_pair).Where(p => !p.IsSequence).SelectMany(p => p.Tokens.Zip(p.Ids));

    /// <summary>Builds the encoding of segment <paramref name="a"/> (and <paramref name="b"/>), already truncated.</summary>
    public Encoding Apply(TokenList a, TokenList? b, bool truncated)
    {
        var template = b == null ? _single : _pair;
        int n = a.Count + (b?.Count ?? 0) + SpecialTokenCount(b != null);
        var ids = new int[n];
        var types = new int[n];
        var tokens = new string[n];
        var offsets = new (int, int)[n];
        var seq = new int[n];
        int p = 0;
        foreach (var piece in template)
        {
            if (piece.IsSequence)
            {
                var s = piece.Sequence == 0 ? a : b!;
                int count = s.Count;
                // Whole-segment span copies and fills (the per-token loop was a tenth of WordPiece's encode time).
                CollectionsMarshal.AsSpan(s.Ids).CopyTo(ids.AsSpan(p, count));
                CollectionsMarshal.AsSpan(s.Tokens).CopyTo(tokens.AsSpan(p, count));
                CollectionsMarshal.AsSpan(s.Offsets).CopyTo(offsets.AsSpan(p, count));
                types.AsSpan(p, count).Fill(piece.TypeId);
                seq.AsSpan(p, count).Fill(piece.Sequence);
                if (TrimOffsets)
                    for (int i = 0; i < count; i++) offsets[p + i] = Trim(s.Tokens[i], s.Offsets[i], i == 0);
                p += count;
            }
            else
            {
                for (int i = 0; i < piece.Ids.Length; i++)
                {
                    ids[p] = piece.Ids[i]; types[p] = piece.TypeId; tokens[p] = piece.Tokens[i]; offsets[p] = (0, 0); seq[p] = -1; p++;
                }
            }
        }
        return new Encoding(ids, types, tokens, offsets, seq, truncated);
    }

    /// <summary>HF's byte-level process_offsets: leading/trailing 'Ġ' (an encoded space, one UTF-16 unit in the
    /// original) are left out of the offsets, except the one space add_prefix_space put before the first token.</summary>
    private (int, int) Trim(string token, (int Start, int End) o, bool first)
    {
        int lead = 0, trail = 0;
        while (lead < token.Length && IsSpace(token[lead])) lead++;
        while (trail < token.Length && IsSpace(token[token.Length - 1 - trail])) trail++;
        if (lead == 0 && trail == 0) return o;
        int start = o.Start, end = o.End;
        if (lead > 0)
        {
            if ((first || start == 0) && AddPrefixSpace && lead == 1) lead = 0;
            start = Math.Min(start + lead, end);
        }
        if (trail > 0 && end >= trail) end = Math.Max(end - trail, start);
        return (start, end);
    }

    private static bool IsSpace(char c) => c == '\u0120' || char.IsWhiteSpace(c);
}
