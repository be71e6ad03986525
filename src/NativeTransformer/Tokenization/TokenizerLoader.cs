namespace NativeTransformer.Tokenization;

/// <summary>
/// Loads the tokenizer of a Hugging Face model folder. tokenizer.json is the source of truth when present
/// (its model type picks the family); without it, the legacy files: vocab.txt (WordPiece), vocab.json + merges.txt
/// (byte-level BPE), spiece.model / sentencepiece.bpe.model (SentencePiece).
/// </summary>
public static class TokenizerLoader
{
    /// <summary>Reads the folder's tokenizer files. Throws <see cref="TokenizerException"/> naming the file for
    /// anything missing, malformed or unsupported.</summary>
    public static ITokenizer FromDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) throw new TokenizerException($"tokenizer directory not found: {directory}");
        try
        {
            string json = Path.Combine(directory, "tokenizer.json");
            if (File.Exists(json))
            {
                using var doc = SentencePieceLoader.ParseJson(json);
                if (SentencePieceLoader.IsUnigram(doc.RootElement)) return SentencePieceLoader.FromTokenizerJson(directory, doc.RootElement);
            }
            else if (SentencePieceModelFile.FindIn(directory) is { } spm)
            {
                return SentencePieceLoader.FromModelFile(directory, spm);
            }
        }
        catch (TokenizerException e) when (!e.Message.Contains(directory, StringComparison.Ordinal))
        {
            throw new TokenizerException($"{directory}: {e.Message}", e);
        }
        return WordPieceTokenizer.FromDirectory(directory);
    }
}
