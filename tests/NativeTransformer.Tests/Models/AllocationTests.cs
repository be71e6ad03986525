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
