namespace NativeTransformer.Tokenization;

/// <summary>
/// A Hugging Face-compatible tokenizer: what models, the CLI and the server use, whatever the family
/// (WordPiece, byte-level BPE, SentencePiece Unigram/BPE). Implementations are thread-safe after construction.
/// Load one with <see cref="TokenizerLoader.FromDirectory(string)"/>.
/// </summary>
public interface ITokenizer
{
    /// <summary>The tokenization model, e.g. "WordPiece", "BPE (byte-level)", "Unigram (SentencePiece)".</summary>
    string Kind { get; }
    /// <summary>Number of ids (the model's vocabulary plus added tokens beyond it).</summary>
    int VocabSize { get; }
    /// <summary>Id of the padding token (what padded positions hold).</summary>
    int PadId { get; }
    /// <summary>The mask token and its id, or null when the tokenizer has none (fill-mask needs one).</summary>
    string? MaskToken { get; }
    int? MaskId { get; }
    /// <summary>model_max_length of the tokenizer files, or null when they set none.</summary>
    int? ModelMaxLength { get; }
    /// <summary>Special tokens the post-processor adds around a single text (<paramref name="pair"/> false) or a pair.</summary>
    int SpecialTokenCount(bool pair);
    /// <summary>Tokens matched literally in the input before normalization (special and added tokens).</summary>
    IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>The token string of <paramref name="id"/>.</summary>
    string IdToToken(int id);
    /// <summary>Looks a token up.</summary>
    bool TryGetId(string token, out int id);

    /// <summary>Tokens with the post-processor's special tokens, type ids and offsets into the original strings;
    /// truncated to <paramref name="maxLength"/> tokens (special tokens included) when given, null = no truncation.</summary>
    /// <exception cref="InputException"><paramref name="maxLength"/> cannot hold the special tokens.</exception>
    Encoding Encode(string text, string? textPair = null, int? maxLength = null);

    /// <summary>Ids of <paramref name="text"/> with no special tokens and no truncation.</summary>
    int[] EncodeIdsNoSpecial(string text);
    /// <summary>Token strings of <paramref name="text"/> with no special tokens and no truncation.</summary>
    string[] TokenizeToStrings(string text);

    /// <summary>
    /// The text of <paramref name="ids"/>, as Hugging Face tokenizers' <c>decode(ids, skip_special_tokens)</c> gives it:
    /// the tokens through tokenizer.json's "decoder" (WordPiece, ByteLevel, Metaspace...), special tokens left out when
    /// <paramref name="skipSpecialTokens"/>. Not always the encoded text: normalization (lowercasing, accents) and
    /// unknown tokens do not come back.
    /// </summary>
    /// <remarks>This default is HF's behaviour without a decoder: the token strings joined by single spaces, the
    /// special added tokens skipped. The library's tokenizers override it with their file's decoder.</remarks>
    /// <exception cref="InputException">An id is negative or not below <see cref="VocabSize"/>.</exception>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var specials = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in AddedTokens) if (t.Special) specials.Add(t.Content);
        return TokenDecoding.Decode(ids, skipSpecialTokens, VocabSize, IdToToken, specials, TokenDecoder.None);
    }
}

/// <summary>Conveniences every tokenizer gets.</summary>
public static class TokenizerExtensions
{
    /// <summary>Encodes every input and right-pads to the longest row (pad id, type id 0, attention mask 0).</summary>
    public static EncodedBatch EncodeBatch(this ITokenizer tokenizer, IReadOnlyList<(string Text, string? TextPair)> inputs, int? maxLength)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = new Encoding[inputs.Count];
        for (int i = 0; i < rows.Length; i++) rows[i] = tokenizer.Encode(inputs[i].Text, inputs[i].TextPair, maxLength);
        return PostProcessor.Pad(rows, tokenizer.PadId);
    }
}
