using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Cli;

/// <summary>
/// ntr embeds the default model WITHOUT its tokenizer.json (466 KB of the binary): vocab.txt holds the vocabulary
/// and tokenizer_config.json / special_tokens_map.json the settings, and everything else tokenizer.json says for
/// this model is the BERT-uncased default (BertNormalizer, WordPiece "##", max 100 chars per word, the five
/// specials as added tokens at their vocab ids). These tests prove it: the folder with and without tokenizer.json
/// gives the same token ids (and the same logits) on SST-2 dev, the tokenizer test corpus and tricky strings.
/// </summary>
public class EmbeddedModelTokenizerTests
{
    private static string Committed => Path.Combine(TestPaths.RepoRoot, "models", "bert-tiny-sst2-int8");

    private static readonly string[] Tricky =
    [
        "[CLS] a [MASK] movie [SEP] [PAD] [UNK]", "[mask] lower-case specials [cls]", "Café naïve ÉCOLE Führer", "中文字 and 日本語",
        "tabs\tand\nnew\r\nlines\u0000control\u0007chars", "emoji 🦙🎬 and 😀!", new string('x', 120) + " long word", "don't... (really?) $3.50 — ok",
        "", "   ", "a[SEP]b[CLS]c", "\u00a0nbsp\u200bzero-width",
    ];

    [Fact]
    public void WithoutTokenizerJsonTheTokenIdsAreIdentical()
    {
        using var folder = CopyWithoutTokenizerJson();
        var full = WordPieceTokenizer.FromDirectory(Committed);
        var slim = WordPieceTokenizer.FromDirectory(folder.Path);
        Assert.Equal(full.VocabSize, slim.VocabSize);
        var texts = Sst2Dev().Concat(TokenizerCorpus()).Concat(Tricky).ToList();
        Assert.True(texts.Count > 900, $"only {texts.Count} texts");
        foreach (var t in texts)
        {
            var a = full.Encode(t, maxLength: 512);
            var b = slim.Encode(t, maxLength: 512);
            Assert.True(a.Ids.AsSpan().SequenceEqual(b.Ids) && a.TypeIds.AsSpan().SequenceEqual(b.TypeIds), $"token ids differ for '{t}'");
        }
        // Pairs use the post-processor template (tokenizer.json's 'pair' vs the built-in one).
        var p1 = full.Encode("first part", "second [SEP] part");
        var p2 = slim.Encode("first part", "second [SEP] part");
        Assert.Equal(p1.Ids, p2.Ids);
        Assert.Equal(p1.TypeIds, p2.TypeIds);
    }

    [Fact]
    public void WithoutTokenizerJsonTheLogitsAreIdentical()
    {
        using var folder = CopyWithoutTokenizerJson();
        using var full = TransformerModel.Load(Committed);
        using var slim = TransformerModel.Load(folder.Path);
        var inputs = Sst2Dev().Take(16).Concat(Tricky).Select(t => new TextInput(t)).ToList();
        Assert.Equal(full.Encode(inputs).Logits, slim.Encode(inputs).Logits);
    }

    private static TempDir CopyWithoutTokenizerJson()
    {
        var tmp = new TempDir();
        foreach (var f in Directory.GetFiles(Committed))
            if (Path.GetFileName(f) != "tokenizer.json") File.Copy(f, tmp.File(Path.GetFileName(f)));
        return tmp;
    }

    private static IEnumerable<string> Sst2Dev() =>
        File.ReadLines(TestPaths.Data("sst2", "dev.tsv")).Skip(1).Select(l => l.Split('\t')[0]);

    private static IEnumerable<string> TokenizerCorpus() =>
        File.ReadAllText(TestPaths.Data("tokenizer_tests", "bert-bge.inp")).Split("\n__ggml_vocab_test__\n");
}
