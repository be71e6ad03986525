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
    public void SecondForwardPassAllocatesNothing(string name, bool int8, int threads)
    {
        using var model = TransformerModel.Load(TestPaths.Model(name), new LoadOptions { Threads = threads, Int8 = int8 });
        var batch = model.Tokenizer.EncodeBatch([("a gorgeous , witty , seductive movie .", null), ("dull", "and far too long")], 64);
        model.Forward(batch);
        model.Forward(batch);
        // The calling thread runs the whole pass (threads = 1) or range 0 of every parallel step: exactly 0 bytes.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) model.Forward(batch);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        // Process-wide, which includes the pool's workers but also the test host's own threads (a few hundred
        // bytes of noise). One allocation per GEMM or per attention step would be ≥ 30 per pass, ≥ 20 KB here.
        long total = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 20; i++) model.Forward(batch);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - total;
        Assert.True(allocated < 4096, $"{allocated} bytes allocated by 20 warm forward passes");
    }
}
