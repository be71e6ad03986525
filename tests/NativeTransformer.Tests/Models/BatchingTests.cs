namespace NativeTransformer.Tests.Models;

/// <summary>A text's results do not depend on what else is in the batch, on batch size, or on thread count — bit for bit.</summary>
public class BatchingTests
{
    private static readonly string[] Texts =
    [
        "a gorgeous , witty , seductive movie .", "dull", "", "the acting is wooden and the plot makes no sense at all , and it goes on and on .",
        "一部电影", "naïve café résumé", "x", "I laughed, I cried, and I would watch it again tomorrow.",
    ];

    [Theory]
    [InlineData("bert-mini-sst2")]
    [InlineData("distilbert-mini-sst2")]
    [InlineData("albert-mini-sst2")]
    public void ClassificationIsIndependentOfBatchCompositionAndThreads(string name)
    {
        using var batched = TransformerModel.Load(TestPaths.Model(name), new LoadOptions { BatchSize = 3, Threads = 2 });
        using var single = TransformerModel.Load(TestPaths.Model(name), new LoadOptions { BatchSize = 1, Threads = 1 });
        var together = batched.Classify(Texts.Select(t => new TextInput(t)).ToArray());
        for (int i = 0; i < Texts.Length; i++)
        {
            var alone = single.Classify([Texts[i]])[0];
            Assert.Equal(alone.Logits, together[i].Logits);   // exact bits
            Assert.Equal(alone.Label, together[i].Label);
        }
    }

    [Fact]
    public void EncodeHiddenStatesAreIndependentOfPaddingAndThreads()
    {
        using var two = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"), new LoadOptions { Threads = 2 });
        using var one = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"), new LoadOptions { Threads = 1 });
        var all = two.Encode(Texts.Select(t => new TextInput(t)).ToArray());
        int h = all.HiddenSize, seq = all.Batch.SeqLen;
        for (int i = 0; i < Texts.Length; i++)
        {
            var alone = one.Encode([Texts[i]]);
            int len = alone.Batch.Lengths[0];
            Assert.Equal(len, all.Batch.Lengths[i]);
            var expected = alone.HiddenStates[^1].AsSpan(0, len * h).ToArray();
            var actual = all.HiddenStates[^1].AsSpan(i * seq * h, len * h).ToArray();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void EmbeddingsKeepInputOrderAcrossLengthSortedBatches()
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"), new LoadOptions { BatchSize = 2 });
        var all = model.Embed(Texts);
        for (int i = 0; i < Texts.Length; i++) Assert.Equal(model.Embed([Texts[i]])[0], all[i]);
        Assert.Empty(model.Embed(Array.Empty<string>()));
    }

    [Fact]
    public void TextFarLongerThanMaxPositionsIsTruncatedNotAnError()
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"));
        string huge = string.Join(" ", Enumerable.Repeat("wonderful", 20_000));
        var r = model.Encode([huge, new TextInput(huge, huge)]);
        Assert.Equal(512, r.Batch.SeqLen);
        Assert.All(r.Batch.Lengths, l => Assert.Equal(512, l));
        Assert.Equal("positive", model.Classify([huge])[0].Label);
    }

    [Fact]
    public void EmptyTextIsClsSep()
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"));
        var r = model.Encode([""]);
        Assert.Equal([101, 102], r.Batch.InputIds);
        Assert.Single(model.Classify([""]));
    }
}
