using NativeTransformer.Tokenization;
namespace NativeTransformer.Tests.Models;

/// <summary>Once its buffers are sized, the forward pass allocates nothing — on the calling thread or the pool's.</summary>
[Collection(SerialCollection.Name)]
public class AllocationTests
{
    [Theory]
    [InlineData("bert-mini-sst2", false, 1)]
    [InlineData("bert-mini-sst2", false, 2)]
    [InlineData("albert-mini-sst2", false, 2)]
    [InlineData("distilbert-mini-sst2", true, 2)]
    [InlineData("bert-mini-sst2", true, 1)]
    [InlineData("mobilebert-mini-sst2", false, 2)]
    [InlineData("mobilebert-mini-sst2", true, 2)]
    [InlineData("t5-encoder-mini-sst2", false, 2)]
    [InlineData("t5-encoder-mini-sst2", true, 2)]
    [InlineData("longformer-mini", false, 2)] // banded attention + the global projections ([CLS] global by default)
    [InlineData("longformer-mini", true, 1)]
    public void SecondForwardPassAllocatesNothing(string name, bool int8, int threads)
    {
        using var model = TransformerModel.Load(TestPaths.Model(name), new LoadOptions { Threads = threads, Int8 = int8 });
        var batch = model.Tokenizer.EncodeBatch([("a gorgeous , witty , seductive movie .", null), ("dull", "and far too long")], 64);
        model.Forward(batch);
        model.Forward(batch);
        // Exactly 0 bytes on every thread that runs the pass: the caller (the whole pass with threads = 1, range 0
        // of every parallel step otherwise) and each pool worker. Other threads (the test host's) are not counted.
        Assert.Equal(0, Allocations.OnOurThreads(model.Pool, () => { for (int i = 0; i < 20; i++) model.Forward(batch); }));
    }
}

/// <summary>Run-state capacity grows in steps, so inputs of ever longer length (length-sorted batches, mixed traffic) do not
/// build a new set of buffers for each new longest input.</summary>
public class RunStateGrowthTests
{
    private static string Words(int n) => "good " + string.Join(' ', Enumerable.Repeat("movie", n));

    [Fact]
    public void AscendingLengthsBuildAFewStatesNotOnePerLength()
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-mini-sst2"), new LoadOptions { Threads = 1 });
        var first = model.Embed([Words(1)])[0];
        for (int words = 2; words <= 40; words++) model.Embed([Words(words)]);
        // 4..43 tokens: capacities 16, 32, 48 — it was one state per new longest input (40 here).
        Assert.InRange(model.RunStatesBuilt, 1, 3);
        Assert.Equal(first, model.Embed([Words(1)])[0]);   // a larger state changes no bit
    }
}
