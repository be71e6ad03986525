namespace NativeTransformer.Tests.Runtime;

/// <summary>The async API: same results as the synchronous calls, cancellation between batches (the model stays usable),
/// and the IAsyncEnumerable embed stream.</summary>
public class AsyncApiTests
{
    private static readonly string[] Texts = ["a gorgeous , witty movie .", "dull", "naïve café", "the plot makes no sense .", "fine", "bleak and desperate"];

    private static TransformerModel Load(int batchSize = 32) =>
        TransformerModel.Load(TestPaths.Model("bert-mini-sst2"), new LoadOptions { Threads = 1, BatchSize = batchSize });

    [Fact]
    public async Task AsyncCallsEqualTheSynchronousOnesBitForBit()
    {
        using var model = Load(batchSize: 2);
        Assert.Equal(model.Embed(Texts), await model.EmbedAsync(Texts));
        var sync = model.Classify(Texts);
        var async = await model.ClassifyAsync(Texts);
        for (int i = 0; i < Texts.Length; i++) { Assert.Equal(sync[i].Label, async[i].Label); Assert.Equal(sync[i].Logits, async[i].Logits); }
        var results = await model.EmbedResultsAsync(Texts.Select(t => new TextInput(t)).ToArray());
        for (int i = 0; i < Texts.Length; i++)
            Assert.Equal(model.Tokenizer.Encode(Texts[i], null, model.MaxLength).Length, results[i].Tokens);
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenRunsNothing()
    {
        using var model = Load();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => model.EmbedAsync(Texts, cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => model.ClassifyAsync(Texts, cts.Token));
    }

    [Fact]
    public void ACancelledCallStopsBetweenBatchesAndTheModelStaysUsable()
    {
        using var model = Load(batchSize: 1);
        var expected = model.Embed(Texts);
        using var cts = new CancellationTokenSource();
        int batches = 0;
        // The hook runs before each batch's check, on this thread: cancel when the second batch is about to start.
        using (CallCancellation.Enter(cts.Token))
        using (CallCancellation.Hook(() => { if (++batches == 2) cts.Cancel(); }))
            Assert.ThrowsAny<OperationCanceledException>(() => model.Embed(Texts));
        Assert.Equal(2, batches);   // one batch ran, the second was refused, the other four never started
        Assert.Equal(expected, model.Embed(Texts));   // bit for bit, with states returned to the pool
        Assert.Equal(expected, model.Embed(Texts));
    }

    [Fact]
    public async Task TheStreamYieldsEveryVectorInOrderAndStopsWhenCancelled()
    {
        using var model = Load(batchSize: 2);
        var expected = model.Embed(Texts);
        var streamed = new List<float[]>();
        await foreach (var v in model.EmbedStreamAsync(Texts, chunkSize: 4)) streamed.Add(v);
        Assert.Equal(expected, streamed);

        using var cts = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var v in model.EmbedStreamAsync(Texts, chunkSize: 2, cts.Token))
            {
                Assert.Equal(expected[seen++], v);
                cts.Cancel();   // the rest of this chunk is already computed; the next chunk is not started
            }
        });
        Assert.Equal(2, seen);
        await Assert.ThrowsAsync<InputException>(async () => { await foreach (var _ in model.EmbedStreamAsync(Texts, chunkSize: 0)) { } });
    }

    [Fact]
    public async Task ConcurrentCallsOnOneModelGiveTheSequentialResults()
    {
        using var model = Load(batchSize: 2);
        var expected = model.Embed(Texts);
        var calls = Enumerable.Range(0, 6).Select(_ => model.EmbedAsync(Texts)).ToArray();
        foreach (var result in await Task.WhenAll(calls)) Assert.Equal(expected, result);
    }
}
