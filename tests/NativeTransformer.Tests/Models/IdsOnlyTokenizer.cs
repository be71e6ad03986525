using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// A tokenizer that cannot tokenize: it lets a model folder load whatever its tokenizer family, so the encoder can be run
/// on a reference's own token ids (<see cref="TransformerModel.Encode(EncodedBatch)"/>) independently of tokenization.
/// </summary>
internal sealed class IdsOnlyTokenizer(int vocabSize, int padId) : ITokenizer
{
    /// <summary>Loads <paramref name="folder"/> with this tokenizer (vocab and pad id from its config.json).</summary>
    public static TransformerModel Load(string folder, LoadOptions? options = null)
    {
        var config = NativeTransformer.Models.ModelConfig.Load(Path.Combine(folder, "config.json"));
        return TransformerModel.Load(folder, options, new IdsOnlyTokenizer(config.VocabSize, config.PadTokenId));
    }

    public string Kind => "ids only (tests)";
    public int VocabSize => vocabSize;
    public int PadId => padId;
    public string? MaskToken => null;
    public int? MaskId => null;
    public int? ModelMaxLength => null;
    public IReadOnlyList<AddedToken> AddedTokens => [];
    public int SpecialTokenCount(bool pair) => 0;
    public string IdToToken(int id) => $"<{id}>";
    public bool TryGetId(string token, out int id) { id = -1; return false; }
    public Encoding Encode(string text, string? textPair = null, int? maxLength = null) => throw new NotSupportedException("ids-only tokenizer");
    public int[] EncodeIdsNoSpecial(string text) => throw new NotSupportedException("ids-only tokenizer");
    public string[] TokenizeToStrings(string text) => throw new NotSupportedException("ids-only tokenizer");
}
