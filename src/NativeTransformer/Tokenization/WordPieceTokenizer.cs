namespace NativeTransformer.Tokenization;

/// <summary>Settings of a BERT WordPiece tokenizer, as Hugging Face names them.</summary>
public sealed record TokenizerOptions
{
    /// <summary>Value of <see cref="ModelMaxLength"/> meaning "unset" (HF writes int(1e30) for that).</summary>
    public const int UnsetModelMaxLength = int.MaxValue;

    /// <summary>Lowercase the text (BertNormalizer lowercase / do_lower_case).</summary>
    public bool Lowercase { get; init; } = true;
    /// <summary>null = follow <see cref="Lowercase"/> (Hugging Face's default).</summary>
    public bool? StripAccents { get; init; }
    /// <summary>Put spaces around CJK ideographs (handle_chinese_chars / tokenize_chinese_chars).</summary>
    public bool TokenizeChineseChars { get; init; } = true;
    /// <summary>Drop control characters and map whitespace to ' ' (clean_text).</summary>
    public bool CleanText { get; init; } = true;
    /// <summary>Unknown token.</summary>
    public string UnkToken { get; init; } = "[UNK]";
    /// <summary>Classifier token put first.</summary>
    public string ClsToken { get; init; } = "[CLS]";
    /// <summary>Separator token ending each segment.</summary>
    public string SepToken { get; init; } = "[SEP]";
    /// <summary>Padding token.</summary>
    public string PadToken { get; init; } = "[PAD]";
    /// <summary>Mask token (masked language modelling).</summary>
    public string MaskToken { get; init; } = "[MASK]";
    /// <summary>Prefix of WordPiece continuation pieces.</summary>
    public string ContinuingSubwordPrefix { get; init; } = "##";
    /// <summary>Words longer than this (in code points) become the unknown token.</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;
    /// <summary>model_max_length from tokenizer_config.json; <see cref="UnsetModelMaxLength"/> when absent or HF's
    /// "unset" sentinel (int(1e30)). 512 (bert-base-uncased) when there is no tokenizer_config.json at all.</summary>
    public int ModelMaxLength { get; init; } = 512;
    /// <summary>True when <see cref="ModelMaxLength"/> holds a real limit.</summary>
    public bool HasModelMaxLength => ModelMaxLength != UnsetModelMaxLength;
    /// <summary>How pairs are truncated (see <see cref="PairTruncationStrategy"/>).</summary>
    public PairTruncationStrategy PairTruncation { get; init; } = PairTruncationStrategy.LongestFirst;
    /// <summary>Recognize the special tokens ([CLS], [SEP], [PAD], [UNK], [MASK] and tokenizer.json's added tokens)
    /// written literally in the input text, as HF does by default (split_special_tokens=False).</summary>
    public bool MatchSpecialTokensInText { get; init; } = true;

    /// <summary>Take <see cref="WordPieceAsciiPath"/> for ASCII text (false: always the general path; tests compare the two).</summary>
    internal bool UseAsciiPath { get; init; } = true;

    /// <summary>The strip_accents value actually applied.</summary>
    public bool EffectiveStripAccents => StripAccents ?? Lowercase;
}

/// <summary>
/// Hugging Face-compatible BERT WordPiece tokenizer: BertNormalizer, BertPreTokenizer, WordPiece and the
/// <c>[CLS] $A [SEP] $B:1 [SEP]:1</c> template, in pure managed code. Thread-safe after construction.
/// </summary>
/// <remarks>
/// Offsets are UTF-16 indices into the original string of the segment. Unpaired surrogates are read as U+FFFD
/// (dropped by clean_text). Special tokens written in the text (e.g. "[MASK]") map to their ids, as in HF.
/// Unicode data (categories, NFD, lowercase) comes from generated Unicode 14 tables, not from .NET: under
/// InvariantGlobalization <c>string.Normalize(FormD)</c> is a silent no-op and <c>ToLowerInvariant</c> leaves
/// U+0130 unchanged, and .NET's own category data is a newer Unicode version than HF's Rust crates use.
/// Added tokens marked "normalized": true in tokenizer.json are matched on the raw text like the others, and
/// "single_word" is not implemented (BERT's special tokens use neither).
/// </remarks>
public sealed class WordPieceTokenizer : ITokenizer
{
    private readonly Vocabulary _vocab;
    private readonly BertNormalizer _normalizer;
    private readonly WordPieceModel _model;
    private readonly AddedTokenSplitter _splitter;
    private readonly TemplatePostProcessor _template;
    private readonly WordPieceAsciiPath? _ascii;
    private readonly TokenDecoder _decoder;
    /// <summary>Contents <see cref="Decode"/> skips: tokenizer.json's "special" added tokens and the five named special
    /// tokens (transformers registers those as special even when the file does not say so).</summary>
    private readonly HashSet<string> _specialContents = new(StringComparer.Ordinal);

    /// <summary>Per-thread scratch: the token lists of Encode's two segments (the encoding copies them out) and the
    /// ASCII path's buffers. One thread-static read per call; the tokenizer stays thread-safe.</summary>
    private sealed class ThreadScratch
    {
        public readonly TokenList A = new(), B = new();
        public readonly WordPieceAsciiPath.Buffers Buffers = new();
    }
    [ThreadStatic] private static ThreadScratch? t_scratch;

    private WordPieceTokenizer(Vocabulary vocab, TokenizerOptions options, IEnumerable<AddedToken>? extraAdded, TokenDecoder? decoder = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (vocab.Count == 0) throw new TokenizerException("the vocabulary is empty");
        if (options.MaxInputCharsPerWord < 1) throw new TokenizerException("max_input_chars_per_word must be >= 1");
        if (options.ContinuingSubwordPrefix == null)
            throw new TokenizerException("continuing_subword_prefix must not be null");
        _vocab = vocab;
        Options = options;
        UnkId = Require(options.UnkToken, "unk_token");
        ClsId = Require(options.ClsToken, "cls_token");
        SepId = Require(options.SepToken, "sep_token");
        PadId = Require(options.PadToken, "pad_token");
        MaskId = Require(options.MaskToken, "mask_token");
        _template = TemplatePostProcessor.Bert(options.ClsToken, ClsId, options.SepToken, SepId);
        _normalizer = new BertNormalizer(options.CleanText, options.TokenizeChineseChars, options.EffectiveStripAccents, options.Lowercase);
        _model = new WordPieceModel(vocab, options.UnkToken, UnkId, options.ContinuingSubwordPrefix, options.MaxInputCharsPerWord);
        _ascii = options.UseAsciiPath ? new WordPieceAsciiPath(_model, options.CleanText, options.Lowercase, GeneralTokenize) : null;

        _decoder = decoder ?? new WordPieceDecoder(options.ContinuingSubwordPrefix, cleanup: true);
        var named = new[] { (options.PadToken, PadId), (options.UnkToken, UnkId), (options.ClsToken, ClsId), (options.SepToken, SepId), (options.MaskToken, MaskId) };
        foreach (var (tok, _) in named) _specialContents.Add(tok);
        if (extraAdded != null)
            foreach (var t in extraAdded) if (t.Special) _specialContents.Add(t.Content);
        var added = new List<AddedToken>();
        if (options.MatchSpecialTokensInText)
        {
            if (extraAdded != null) added.AddRange(extraAdded);
            foreach (var (tok, id) in named)
                if (!added.Exists(a => a.Content == tok)) added.Add(new AddedToken(tok, id, Special: true));
        }
        AddedTokens = added;
        _splitter = new AddedTokenSplitter(added);
    }

    /// <summary>The same tokenizer with the ASCII path off (tests compare it with the general path).</summary>
    internal WordPieceTokenizer WithoutAsciiPath() => new(_vocab, Options with { UseAsciiPath = false }, AddedTokens, _decoder);

    private int Require(string token, string what)
    {
        if (string.IsNullOrEmpty(token)) throw new TokenizerException($"{what} is empty");
        // HF would silently take the last line; an ambiguous special token means the model may be fed the wrong row.
        if (_vocab.IsDuplicated(token)) throw new TokenizerException($"{what} '{token}' appears on more than one line of the vocabulary");
        return _vocab.TryGetId(token, out var id) ? id
            : throw new TokenizerException($"{what} '{token}' is not in the vocabulary");
    }

    /// <summary>Reads vocab.txt and the settings in tokenizer.json / tokenizer_config.json / special_tokens_map.json.</summary>
    /// <exception cref="TokenizerException">vocab.txt missing or empty, malformed JSON, unsupported components, or a
    /// special token absent from the vocabulary.</exception>
    public static WordPieceTokenizer FromDirectory(string directory) => FromDirectory(directory, null);

    /// <summary>As <see cref="FromDirectory(string)"/> with the pair-truncation rule given (null: the options' default).</summary>
    internal static WordPieceTokenizer FromDirectory(string directory, PairTruncationStrategy? pairTruncation)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) throw new TokenizerException($"tokenizer directory not found: {directory}");
        try { return ReadDirectory(directory, pairTruncation); }
        catch (TokenizerException e) when (!e.Message.Contains(directory, StringComparison.Ordinal))
        {
            throw new TokenizerException($"{directory}: {e.Message}", e);
        }
    }

    private static WordPieceTokenizer ReadDirectory(string directory, PairTruncationStrategy? pairTruncation)
    {
        string vocabPath = Path.Combine(directory, "vocab.txt");
        var vocab = Vocabulary.Load(vocabPath);
        var loaded = TokenizerConfigLoader.Load(directory);
        var extra = new List<AddedToken>();
        // Added tokens beyond vocab.txt get new ids; bounding them by the number of added tokens keeps the id table
        // (and the check against config.json vocab_size) proportional to the files, whatever ids tokenizer.json claims
        // (found by the hostile corpus and by fuzzing: ids of -2^31 and 2·10^9 escaped as non-library exceptions).
        long idLimit = (long)vocab.Count + loaded.AddedTokens.Count;
        foreach (var (content, id, l, r, _, special) in loaded.AddedTokens)
        {
            if (id < 0 || id >= idLimit)
                throw new TokenizerException($"{Path.Combine(directory, "tokenizer.json")}: added token '{content}' has id {id}; " +
                    $"ids must be in 0..{idLimit - 1} (vocab.txt lines, then one per added token)");
            if (vocab.TryGetId(content, out var vid))
            {
                if (vid != id && id < vocab.Count && vocab.IdToToken(id) != content)
                    throw new TokenizerException($"tokenizer.json: added token '{content}' has id {id} but vocab.txt gives {vid}");
                extra.Add(new AddedToken(content, vid, l, r, Special: special));
            }
            else
            {
                vocab.AddExtra(content, id);
                extra.Add(new AddedToken(content, id, l, r, Special: special));
            }
        }
        var options = pairTruncation is { } pt ? loaded.Options with { PairTruncation = pt } : loaded.Options;
        try { return new WordPieceTokenizer(vocab, options, extra, loaded.Decoder); }
        catch (TokenizerException e) { throw new TokenizerException($"{vocabPath}: {e.Message}", e); }
    }

    /// <summary>Reads a vocab.txt file; settings default to BERT-uncased unless <paramref name="options"/> is given.</summary>
    public static WordPieceTokenizer FromVocabFile(string vocabPath, TokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabPath);
        return new WordPieceTokenizer(Vocabulary.Load(vocabPath), options ?? new TokenizerOptions(), null);
    }

    /// <summary>Builds a tokenizer from an in-memory vocabulary (id = index).</summary>
    public static WordPieceTokenizer FromVocab(IReadOnlyList<string> vocab, TokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        if (vocab.Count == 0) throw new TokenizerException("the vocabulary is empty");
        return new WordPieceTokenizer(new Vocabulary(vocab), options ?? new TokenizerOptions(), null);
    }

    /// <summary>The settings in effect.</summary>
    public TokenizerOptions Options { get; }
    /// <summary>Number of ids: lines of vocab.txt (duplicates included) plus added tokens beyond them.</summary>
    public int VocabSize => _vocab.Count;
    /// <summary>Id of the padding token.</summary>
    public int PadId { get; }
    /// <summary>Id of the unknown token.</summary>
    public int UnkId { get; }
    /// <summary>Id of the classifier token.</summary>
    public int ClsId { get; }
    /// <summary>Id of the separator token.</summary>
    public int SepId { get; }
    /// <summary>Id of the mask token.</summary>
    public int MaskId { get; }
    /// <summary>Tokens matched literally in the input before normalization (empty when
    /// <see cref="TokenizerOptions.MatchSpecialTokensInText"/> is off).</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    public string Kind => "WordPiece";
    string? ITokenizer.MaskToken => Options.MaskToken;
    int? ITokenizer.MaskId => MaskId;
    int? ITokenizer.ModelMaxLength => Options.HasModelMaxLength ? Options.ModelMaxLength : null;
    public int SpecialTokenCount(bool pair) => pair ? 3 : 2;

    /// <summary>The token string of <paramref name="id"/> (the text of that vocab.txt line).</summary>
    public string IdToToken(int id) => _vocab.IdToToken(id);

    /// <summary>The text of <paramref name="ids"/> through tokenizer.json's decoder (WordPiece with "##" and cleanup
    /// for a vocab.txt folder); see <see cref="ITokenizer.Decode"/>.</summary>
    /// <exception cref="InputException">An id outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true) =>
        TokenDecoding.Decode(ids, skipSpecialTokens, _vocab.Count, _vocab.TokenOf, _specialContents, _decoder);

    /// <summary>Looks a token up (for a duplicated token: the id of its last line).</summary>
    public bool TryGetId(string token, out int id) => _vocab.TryGetId(token, out id);

    /// <summary>The normalized form of <paramref name="text"/> (BertNormalizer output), for diagnostics.</summary>
    public string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _normalizer.Normalize(text, 0, text.Length).ToString();
    }

    /// <summary>WordPiece ids of <paramref name="text"/> with no special tokens and no truncation.</summary>
    public int[] EncodeIdsNoSpecial(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenize(text).Ids.ToArray();
    }

    /// <summary>Tokens (strings) of <paramref name="text"/> with no special tokens and no truncation.</summary>
    public string[] TokenizeToStrings(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenize(text).Tokens.ToArray();
    }

    private TokenList Tokenize(string text) => Tokenize(text, new TokenList(), Scratch().Buffers);

    private static ThreadScratch Scratch() => t_scratch ??= new ThreadScratch();

    private TokenList Tokenize(string text, TokenList output, WordPieceAsciiPath.Buffers buffers)
    {
        if (!_splitter.MayMatch(text))
        {
            if (text.Length > 0) TokenizePlain(text, 0, text.Length, output, buffers);
            return output;
        }
        foreach (var piece in _splitter.Split(text))
        {
            if (piece.Token is { } t)
            {
                output.Add(t.Id, t.Content, piece.Start, piece.End);
                continue;
            }
            if (piece.End == piece.Start) continue;
            TokenizePlain(text, piece.Start, piece.End, output, buffers);
        }
        return output;
    }

    /// <summary>Text between added tokens: the ASCII path (which hands what it cannot take to the general path), or
    /// the general path alone when the ASCII path is off.</summary>
    private void TokenizePlain(string text, int start, int end, TokenList output, WordPieceAsciiPath.Buffers buffers)
    {
        if (_ascii != null) _ascii.Tokenize(text, start, end, output, buffers);
        else GeneralTokenize(text, start, end, output);
    }

    /// <summary>BertNormalizer, BertPreTokenizer and WordPiece on text[start..end), for any text.</summary>
    private void GeneralTokenize(string text, int start, int end, TokenList output)
    {
        var norm = _normalizer.Normalize(text, start, end);
        var state = (Model: _model, Norm: norm, Out: output, Scratch: new WordPieceModel.Scratch());
        BertPreTokenizer.Split(norm, ref state, static (ref (WordPieceModel Model, NormalizedText Norm, TokenList Out, WordPieceModel.Scratch Scratch) s, int from, int to)
            => s.Model.Tokenize(s.Norm, from, to, s.Out, s.Scratch));
    }

    /// <summary>[CLS] A [SEP] (B [SEP]) with type ids, tokens and offsets; truncated to <paramref name="maxLength"/>
    /// (longest_first for pairs, see <see cref="TokenizerOptions.PairTruncation"/>) when given. null = no truncation.</summary>
    /// <exception cref="InputException"><paramref name="maxLength"/> is smaller than the number of special tokens (2, or 3 for a pair).</exception>
    public Encoding Encode(string text, string? textPair = null, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        int specials = textPair == null ? 2 : 3;
        if (maxLength is { } ml && ml < specials)
            throw new InputException($"max length {ml} is too small: {(textPair == null ? "a single text" : "a text pair")} needs {specials} special tokens");

        var scratch = Scratch();
        scratch.A.Clear();
        var a = Tokenize(text, scratch.A, scratch.Buffers);
        TokenList? b = null;
        if (textPair != null)
        {
            scratch.B.Clear();
            b = Tokenize(textPair, scratch.B, scratch.Buffers);
        }
        bool truncated = false;
        if (maxLength is { } max)
        {
            var (k1, k2) = Truncation.Lengths(a.Count, b?.Count ?? -1, max - specials, Options.PairTruncation);
            if (k1 < a.Count) { a.Truncate(k1); truncated = true; }
            if (b != null && k2 < b.Count) { b.Truncate(k2); truncated = true; }
        }
        return _template.Apply(a, b, truncated);
    }

}
