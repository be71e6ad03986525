namespace NativeTransformer.Tokenization;

/// <summary>Settings of a <see cref="PipelineTokenizer"/> that are not part of its segment model or post-processor.</summary>
/// <param name="Kind">Shown by <see cref="ITokenizer.Kind"/>, e.g. "BPE (byte-level)".</param>
/// <param name="PadId">Id padded positions hold.</param>
/// <param name="MaskToken">The mask token, or null.</param>
/// <param name="ModelMaxLength">model_max_length, or null when unset.</param>
/// <param name="PairTruncation">How pairs are cut; the Rust tokenizers' rule by default, as transformers' fast
/// tokenizers (its default) apply it.</param>
/// <param name="Decoder">What <see cref="ITokenizer.Decode"/> runs the tokens through: tokenizer.json's "decoder", or
/// the family's for a legacy folder; null = none (tokens joined by spaces, as HF without a decoder).</param>
internal sealed record PipelineSettings(string Kind, int PadId, string? MaskToken, int? ModelMaxLength,
    PairTruncationStrategy PairTruncation = PairTruncationStrategy.LongestFirstRust, TokenDecoder? Decoder = null);

/// <summary>
/// A tokenizer.json pipeline for any family: added/special tokens are split off the raw text, every plain stretch
/// goes through the family's <see cref="ISegmentModel"/> (normalizer, pre-tokenizer, model), then truncation
/// (longest_first) and the <see cref="TemplatePostProcessor"/>. Thread-safe after construction when the segment
/// model is.
/// </summary>
/// <remarks>
/// Added tokens are matched on the raw text, leftmost-longest, with lstrip/rstrip/single_word as HF applies them.
/// HF matches tokens marked "normalized": true on the normalized text instead; the two agree whenever the normalizer
/// leaves the token's characters alone (no normalizer at all for byte-level BPE).
/// </remarks>
public sealed class PipelineTokenizer : ITokenizer
{
    private readonly ISegmentModel _model;
    private readonly AddedTokenSplitter _splitter;
    private readonly TemplatePostProcessor _post;
    private readonly PipelineSettings _settings;
    private readonly Dictionary<string, int> _addedByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _addedById = new();
    private readonly HashSet<string> _specialContents = new(StringComparer.Ordinal);

    internal PipelineTokenizer(ISegmentModel model, IReadOnlyList<AddedToken> addedTokens, TemplatePostProcessor post, PipelineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(addedTokens);
        ArgumentNullException.ThrowIfNull(post);
        ArgumentNullException.ThrowIfNull(settings);
        _model = model;
        _post = post;
        _settings = settings;
        int size = model.VocabSize;
        foreach (var t in addedTokens)
        {
            if (t.Id < 0 || (long)t.Id >= (long)model.VocabSize + addedTokens.Count)
                throw new TokenizerException($"added token '{t.Content}' has id {t.Id}; ids must be in 0..{(long)model.VocabSize + addedTokens.Count - 1} (the model's vocabulary, then one per added token)");
            _addedByContent[t.Content] = t.Id;
            _addedById.TryAdd(t.Id, t.Content);
            if (t.Special) _specialContents.Add(t.Content);
            size = Math.Max(size, t.Id + 1);
        }
        // Ids beyond the model's vocabulary are only legal as added tokens, and then without holes: an id table
        // bounded by the files, whatever ids they claim.
        for (int id = model.VocabSize; id < size; id++)
            if (!_addedById.ContainsKey(id))
                throw new TokenizerException($"added tokens leave id {id} unassigned (the model's vocabulary has {model.VocabSize} ids; added ids must follow it without gaps)");
        VocabSize = size;
        AddedTokens = addedTokens.ToArray();
        _splitter = new AddedTokenSplitter(AddedTokens);
        foreach (var (token, id) in post.SpecialTokens())
            if ((uint)id >= (uint)size)
                throw new TokenizerException($"post_processor: special token '{token}' has id {id}, outside the vocabulary (size {size})");
        if (settings.PadId < 0 || settings.PadId >= size)
            throw new TokenizerException($"pad token id {settings.PadId} is outside the vocabulary (size {size})");
        if (settings.MaskToken != null)
            MaskId = TryGetId(settings.MaskToken, out var m) ? m
                : throw new TokenizerException($"mask_token '{settings.MaskToken}' is not in the vocabulary");
    }

    public string Kind => _settings.Kind;
    public int VocabSize { get; }
    public int PadId => _settings.PadId;
    public string? MaskToken => _settings.MaskToken;
    public int? MaskId { get; }
    public int? ModelMaxLength => _settings.ModelMaxLength;
    public IReadOnlyList<AddedToken> AddedTokens { get; }
    /// <summary>How pairs are truncated.</summary>
    public PairTruncationStrategy PairTruncation => _settings.PairTruncation;

    /// <summary>The same tokenizer with another pair-truncation rule.</summary>
    public PipelineTokenizer WithPairTruncation(PairTruncationStrategy strategy) =>
        new(_model, AddedTokens, _post, _settings with { PairTruncation = strategy });

    public int SpecialTokenCount(bool pair) => _post.SpecialTokenCount(pair);

    /// <exception cref="InputException"><paramref name="id"/> is outside the vocabulary.</exception>
    public string IdToToken(int id)
    {
        if (_addedById.TryGetValue(id, out var t)) return t;
        if ((uint)id < (uint)_model.VocabSize) return _model.IdToToken(id);
        throw new InputException($"token id {id} is outside the vocabulary (size {VocabSize})");
    }

    /// <summary>Special tokens are the added tokens marked "special" (HF skips by content, so a vocabulary entry spelled
    /// the same is skipped too).</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true) =>
        TokenDecoding.Decode(ids, skipSpecialTokens, VocabSize, IdToToken, _specialContents, _settings.Decoder ?? TokenDecoder.None);

    public bool TryGetId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _addedByContent.TryGetValue(token, out id) || _model.TryGetId(token, out id);
    }

    public int[] EncodeIdsNoSpecial(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenize(text).Ids.ToArray();
    }

    public string[] TokenizeToStrings(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenize(text).Tokens.ToArray();
    }

    private TokenList Tokenize(string text)
    {
        var output = new TokenList();
        foreach (var piece in _splitter.Split(text))
        {
            if (piece.Token is { } t) output.Add(t.Id, t.Content, piece.Start, piece.End);
            else if (piece.End > piece.Start) _model.Tokenize(text, piece.Start, piece.End, output);
        }
        return output;
    }

    public Encoding Encode(string text, string? textPair = null, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        int specials = SpecialTokenCount(textPair != null);
        if (maxLength is { } ml && ml < specials)
            throw new InputException($"max length {ml} is too small: {(textPair == null ? "a single text" : "a text pair")} needs {specials} special tokens");
        var a = Tokenize(text);
        var b = textPair == null ? null : Tokenize(textPair);
        bool truncated = false;
        if (maxLength is { } max)
        {
            var (k1, k2) = Truncation.Lengths(a.Count, b?.Count ?? -1, max - specials, _settings.PairTruncation);
            if (k1 < a.Count) { a.Truncate(k1); truncated = true; }
            if (b != null && k2 < b.Count) { b.Truncate(k2); truncated = true; }
        }
        return _post.Apply(a, b, truncated);
    }
}
