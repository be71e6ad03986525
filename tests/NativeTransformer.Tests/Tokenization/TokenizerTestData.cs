using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>Shared tokenizers for the tests (loading a 30k vocabulary once).</summary>
internal static class TokenizerTestData
{
    private static readonly Lazy<WordPieceTokenizer> _bertUncased =
        new(() => WordPieceTokenizer.FromDirectory(TestPaths.Model("bert-mini-sst2")));

    /// <summary>bert-base-uncased vocabulary and settings (models/bert-mini-sst2).</summary>
    public static WordPieceTokenizer BertUncased => _bertUncased.Value;
}
