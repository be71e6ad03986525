using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>
/// Loads the tokenizer of a Hugging Face model folder. tokenizer.json is the source of truth when present
/// (its model type picks the family); without it, the legacy files: vocab.txt (WordPiece), vocab.json + merges.txt
/// (byte-level BPE), spiece.model / sentencepiece.bpe.model (SentencePiece).
/// </summary>
public static class TokenizerLoader
{
    /// <summary>Model types of tokenizer.json this library reads.</summary>
    public const string SupportedModels = "WordPiece, BPE (with the ByteLevel pre-tokenizer), Unigram";

    /// <summary>Reads the folder's tokenizer files. Throws <see cref="TokenizerException"/> naming the file for
    /// anything missing, malformed or unsupported.</summary>
    public static ITokenizer FromDirectory(string directory) => FromDirectory(directory, null);

    /// <summary>As <see cref="FromDirectory(string)"/>, with the pair-truncation rule given (null = the family's
    /// default: the Rust tokenizers' rule, what transformers' fast tokenizers apply).</summary>
    public static ITokenizer FromDirectory(string directory, PairTruncationStrategy? pairTruncation)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) throw new TokenizerException($"tokenizer directory not found: {directory}");
        try
        {
            var tok = Load(directory, pairTruncation);
            return tok;
        }
        catch (TokenizerException e) when (!e.Message.Contains(directory, StringComparison.Ordinal))
        {
            throw new TokenizerException($"{directory}: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // JsonDocument reports a lone-surrogate escape inside a string only when the string is read.
            throw new TokenizerException($"{directory}: a tokenizer file holds a string that is not valid UTF-16: {e.Message}", e);
        }
    }

    private static ITokenizer Load(string directory, PairTruncationStrategy? pairTruncation)
    {
        using (var tj = TokenizerConfigLoader.Open(directory, "tokenizer.json"))
        {
            // tokenizer.json is the source of truth: one without "model" is refused (ModelType says so), as HF refuses it.
            if (tj != null)
            {
                var root = tj.RootElement;
                CheckDecoder(root);
                switch (ModelType(root))
                {
                    case "WordPiece": return WordPiece(directory, pairTruncation);
                    case "BPE":
                        var bpe = ByteLevelBpeLoader.FromTokenizerJson(directory, root);
                        return pairTruncation is { } s ? bpe.WithPairTruncation(s) : bpe;
                    case "Unigram":
                        var unigram = SentencePieceLoader.FromTokenizerJson(directory, root);
                        return pairTruncation is { } u ? unigram.WithPairTruncation(u) : unigram;
                    case var t: throw new TokenizerException($"tokenizer.json: unsupported model type '{t}' (supported: {SupportedModels})");
                }
            }
        }
        if (File.Exists(Path.Combine(directory, "vocab.txt"))) return WordPiece(directory, pairTruncation);
        if (File.Exists(Path.Combine(directory, "vocab.json")))
        {
            var bpe = ByteLevelBpeLoader.FromVocabAndMerges(directory);
            return pairTruncation is { } s ? bpe.WithPairTruncation(s) : bpe;
        }
        foreach (var spm in new[] { "spiece.model", "sentencepiece.bpe.model" })
            if (File.Exists(Path.Combine(directory, spm)))
            {
                var unigram = SentencePieceLoader.FromModelFile(directory, Path.Combine(directory, spm));
                return pairTruncation is { } u ? unigram.WithPairTruncation(u) : unigram;
            }
        throw new TokenizerException("no tokenizer files: expected tokenizer.json, vocab.txt, vocab.json + merges.txt, spiece.model or sentencepiece.bpe.model");
    }

    // The loader's default is the Rust tokenizers' pair rule for every family: transformers loads fast tokenizers by
    // default, and the references made with them (bert-mini-cross-encoder) need it.
    private static ITokenizer WordPiece(string directory, PairTruncationStrategy? pairTruncation) =>
        WordPieceTokenizer.FromDirectory(directory, pairTruncation ?? PairTruncationStrategy.LongestFirstRust);

    /// <summary>model.type, or (older files without it) the type its fields imply, as HF's untagged deserializer does.</summary>
    private static string ModelType(JsonElement root)
    {
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new TokenizerException("tokenizer.json: \"model\" is missing or not an object");
        if (Json.Str(model, "type", "tokenizer.json", "model") is { } t) return t;
        if (model.TryGetProperty("merges", out _)) return "BPE";
        if (model.TryGetProperty("vocab", out var v) && v.ValueKind == JsonValueKind.Array) return "Unigram";
        if (model.TryGetProperty("continuing_subword_prefix", out _) || model.TryGetProperty("max_input_chars_per_word", out _)) return "WordPiece";
        throw new TokenizerException($"tokenizer.json: model has no \"type\" and its fields match none of {SupportedModels}");
    }

    /// <summary>Refuses a decoder we cannot run before any family-specific check (each family reads it again for its
    /// <see cref="ITokenizer.Decode"/>): a pipeline we do not understand is not taken for one we do.</summary>
    private static void CheckDecoder(JsonElement root) => DecoderJson.Read(root);
}
