namespace NativeTransformer.Tokenization;

/// <summary>Settings of a BERT WordPiece tokenizer, as Hugging Face names them. (Contract stub.)</summary>
public sealed record TokenizerOptions
{
    public bool Lowercase { get; init; } = true;
    /// <summary>null = follow <see cref="Lowercase"/> (Hugging Face's default).</summary>
    public bool? StripAccents { get; init; }
    public bool TokenizeChineseChars { get; init; } = true;
    public bool CleanText { get; init; } = true;
    public string UnkToken { get; init; } = "[UNK]";
    public string ClsToken { get; init; } = "[CLS]";
    public string SepToken { get; init; } = "[SEP]";
    public string PadToken { get; init; } = "[PAD]";
    public string MaskToken { get; init; } = "[MASK]";
    public string ContinuingSubwordPrefix { get; init; } = "##";
    public int MaxInputCharsPerWord { get; init; } = 100;
    public int ModelMaxLength { get; init; } = 512;
}

/// <summary>Hugging Face-compatible BERT WordPiece tokenizer. (Contract stub.)</summary>
public sealed class WordPieceTokenizer
{
    /// <summary>Reads vocab.txt and the settings in tokenizer.json / tokenizer_config.json / special_tokens_map.json.</summary>
    public static WordPieceTokenizer FromDirectory(string directory) => throw new NotImplementedException();
    public static WordPieceTokenizer FromVocabFile(string vocabPath, TokenizerOptions? options = null) => throw new NotImplementedException();
    public static WordPieceTokenizer FromVocab(IReadOnlyList<string> vocab, TokenizerOptions? options = null) => throw new NotImplementedException();

    public TokenizerOptions Options => throw new NotImplementedException();
    public int VocabSize => throw new NotImplementedException();
    public int PadId => throw new NotImplementedException();
    public int UnkId => throw new NotImplementedException();
    public int ClsId => throw new NotImplementedException();
    public int SepId => throw new NotImplementedException();
    public int MaskId => throw new NotImplementedException();
    public string IdToToken(int id) => throw new NotImplementedException();
    public bool TryGetId(string token, out int id) => throw new NotImplementedException();

    /// <summary>WordPiece ids of <paramref name="text"/> with no special tokens and no truncation.</summary>
    public int[] EncodeIdsNoSpecial(string text) => throw new NotImplementedException();

    /// <summary>[CLS] A [SEP] (B [SEP]) with type ids, tokens and offsets; truncated to <paramref name="maxLength"/>
    /// (longest_first for pairs) when given. null = no truncation.</summary>
    public Encoding Encode(string text, string? textPair = null, int? maxLength = null) => throw new NotImplementedException();

    /// <summary>Encodes and right-pads to the longest row.</summary>
    public EncodedBatch EncodeBatch(IReadOnlyList<(string Text, string? TextPair)> inputs, int? maxLength) => throw new NotImplementedException();
}
