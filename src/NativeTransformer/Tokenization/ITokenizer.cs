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
