using NativeTransformer.Tokenization;
using NativeTransformer.Compression;
using NativeTransformer.Kernels;
using NativeTransformer.Tests.Weights;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// The determinism guarantee, end to end: a text's logits and embedding are the same bits whatever the thread count
/// (1, 2, 8), the batch it lands in (size, neighbours, order, padding) and the kernel family (fp32 packed, int8,
/// fp32 sparse) — and one model used from many threads at once answers exactly as it does sequentially.
/// The kernels are built for this (every output element has one fixed operation sequence; work splits never change
/// it); these tests are what would catch a reduction that depends on the split or a buffer shared between callers.
/// </summary>
public sealed class DeterminismTests : IClassFixture<DeterminismTests.PrunedModel>
{
    /// <summary>bert-mini-sst2 with 90 % of each encoder matrix zeroed, so the sparse kernels can be forced.</summary>
    public sealed class PrunedModel : IDisposable
    {
        private readonly TempDir _dir = new();
        public string Path { get; }
        public PrunedModel()
        {
            Path = _dir.File("pruned");
            PruneFolder.Run(TestPaths.Model("bert-mini-sst2"), Path, new PruneOptions(0.9));
        }
        public void Dispose() => _dir.Dispose();
    }

    private readonly PrunedModel _pruned;
    public DeterminismTests(PrunedModel pruned) => _pruned = pruned;

    private static readonly string[] Texts =
    [
        "a gorgeous , witty , seductive movie .", "dull", "", "the acting is wooden and the plot makes no sense at all , and it goes on and on .",
        "一部电影", "naïve café résumé", "x", "I laughed, I cried, and I would watch it again tomorrow.",
        "an utterly charming and hilarious film that reaffirms your faith in cinema", "bleak and desperate",
        "ok", "the film is strictly routine .",
    ];

    public static TheoryData<string> Kernels => new() { "fp32", "int8", "sparse" };

    private LoadOptions Options(string kernels, int threads, int batch) => kernels switch
    {
        "fp32" => new LoadOptions { Threads = threads, BatchSize = batch, SparseKernels = SparseKernels.Never },
        "int8" => new LoadOptions { Threads = threads, BatchSize = batch, Int8 = true },
        _ => new LoadOptions { Threads = threads, BatchSize = batch, SparseKernels = SparseKernels.Always },
    };

    private string ModelFor(string kernels) => kernels == "sparse" ? _pruned.Path : TestPaths.Model("bert-mini-sst2");

    [Theory]
    [MemberData(nameof(Kernels))]
    public void LogitsAreTheSameBitsForEveryThreadCountAndBatchComposition(string kernels) => AssertSameBits(ModelFor(kernels), kernels);

    /// <summary>MobileBERT's variant block (bottlenecks, stacked FFNs, NoNorm, trigram embeddings whose neighbours stop at a
    /// row's own length) keeps the guarantee.</summary>
    [Theory]
    [InlineData("fp32")]
    [InlineData("int8")]
    public void MobileBertLogitsAreTheSameBitsForEveryThreadCountAndBatchComposition(string kernels) =>
        AssertSameBits(TestPaths.Model("mobilebert-mini-sst2"), kernels);

    /// <summary>T5's pre-norm block (RMSNorm, relative position bias shared by the blocks, a final norm) and its
    /// 2_Dense_classifier (mean over each row's own tokens) keep the guarantee.</summary>
    [Theory]
    [InlineData("fp32")]
    [InlineData("int8")]
    public void T5LogitsAreTheSameBitsForEveryThreadCountAndBatchComposition(string kernels) =>
        AssertSameBits(TestPaths.Model("t5-encoder-mini-sst2"), kernels);

    /// <summary>Longformer: banded attention with a global [CLS], short texts.</summary>
    [Theory]
    [InlineData("fp32")]
    [InlineData("int8")]
    public void LongformerLogitsAreTheSameBitsForEveryThreadCountAndBatchComposition(string kernels) =>
        AssertSameBits(TestPaths.Model("longformer-mini"), kernels);

    /// <summary>Longformer on the reference's long rows (40, 300 and 1,000 tokens: many chunks and blocks, several global
    /// tokens per row): each row alone on one thread equals the rows batched together on 2 or 8 threads, bit for bit.</summary>
    [Fact]
    public void LongformerLongRowsAreTheSameBitsAloneOrBatched()
    {
        using var reference = ReferenceSet.Load("longformer-mini");
        var batch = reference.Batch() with { GlobalAttention = Array.ConvertAll(reference.Long("multiglobal.global_attention_mask"), v => (int)v) };
        int seq = batch.SeqLen, h = 128;
        var alone = new float[batch.BatchSize][];
        using (var one = TransformerModel.Load(TestPaths.Model("longformer-mini"), new LoadOptions { Threads = 1 }))
            for (int r = 0; r < batch.BatchSize; r++)
            {
                int n = batch.Lengths[r];
                var row = new EncodedBatch(1, n, batch.InputIds.AsSpan(r * seq, n).ToArray(), batch.TypeIds.AsSpan(r * seq, n).ToArray(),
                    batch.AttentionMask.AsSpan(r * seq, n).ToArray(), [n], []) { GlobalAttention = batch.GlobalAttention.AsSpan(r * seq, n).ToArray() };
                alone[r] = one.Encode(row).HiddenStates[^1];
            }
        foreach (int threads in new[] { 2, 8 })
        {
            using var model = TransformerModel.Load(TestPaths.Model("longformer-mini"), new LoadOptions { Threads = threads });
            var all = model.Encode(batch).HiddenStates[^1];
            for (int r = 0; r < batch.BatchSize; r++)
                Assert.True(all.AsSpan(r * seq * h, batch.Lengths[r] * h).SequenceEqual(alone[r]), $"threads {threads}: row {r} differs from its run alone");
        }
    }

    private void AssertSameBits(string modelPath, string kernels)
    {
        float[][] expected;
        using (var reference = TransformerModel.Load(modelPath, Options(kernels, threads: 1, batch: 1)))
        {
            Assert.Contains(kernels switch { "fp32" => "fp32-packed", "int8" => "int8", _ => "sparse" }, reference.KernelDescription);
            expected = Texts.Select(t => reference.Classify([t])[0].Logits).ToArray();
        }

        var shuffle = new Random(11);
        foreach (int threads in new[] { 1, 2, 8 })
            foreach (int batch in new[] { 1, 3, 8, 32 })
            {
                using var model = TransformerModel.Load(modelPath, Options(kernels, threads, batch));
                Assert.Equal(threads, model.Threads);
                // A different order each time: each text meets other neighbours and other padding.
                var order = Enumerable.Range(0, Texts.Length).OrderBy(_ => shuffle.Next()).ToArray();
                var got = model.Classify(order.Select(i => Texts[i]).ToArray());
                for (int j = 0; j < order.Length; j++)
                    Assert.True(expected[order[j]].AsSpan().SequenceEqual(got[j].Logits),
                        $"{kernels}, threads {threads}, batch {batch}: logits of \"{Texts[order[j]]}\" differ from the single-threaded batch-1 run");
            }
    }

    [Fact]
    public void EmbeddingsAreTheSameBitsForEveryThreadCount()
    {
        float[][] expected;
        using (var reference = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"), new LoadOptions { Threads = 1, BatchSize = 1 }))
            expected = reference.Embed(Texts);
        foreach (int threads in new[] { 2, 8 })
        {
            using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"), new LoadOptions { Threads = threads, BatchSize = 5 });
            var got = model.Embed(Texts.Reverse().ToArray());
            for (int i = 0; i < Texts.Length; i++) Assert.Equal(expected[i], got[Texts.Length - 1 - i]);
        }
    }

    /// <summary>
    /// One model, eight callers at once mixing Classify, Embed-free Encode and single/batched calls on random subsets:
    /// every answer equals the sequential one bit for bit (run states are rented per call; the pool serialises its
    /// parallel sections but callers interleave between them).
    /// </summary>
    [Theory]
    [InlineData("fp32")]
    [InlineData("int8")]
    public void OneModelUsedFromManyThreadsAnswersAsSequentialUse(string kernels)
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-mini-sst2"), Options(kernels, threads: 2, batch: 4));
        var sequential = Texts.Select(t => model.Classify([t])[0].Logits).ToArray();
        var hiddenAlone = Texts.Select(t => model.Encode([t]).HiddenStates[^1]).ToArray();

        int callers = 8, rounds = 8;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(callers);
        var threads = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            var rng = new Random(100 + c);
            start.SignalAndWait();
            for (int r = 0; r < rounds; r++)
            {
                var pick = Enumerable.Range(0, 1 + rng.Next(Texts.Length)).Select(_ => rng.Next(Texts.Length)).ToArray();
                if (rng.Next(4) == 0)
                {
                    int i = pick[0];
                    var enc = model.Encode([Texts[i]]);
                    if (!enc.HiddenStates[^1].AsSpan().SequenceEqual(hiddenAlone[i])) failures.Enqueue($"caller {c} round {r}: Encode(\"{Texts[i]}\")");
                    continue;
                }
                var got = model.Classify(pick.Select(i => Texts[i]).ToArray());
                for (int j = 0; j < pick.Length; j++)
                    if (!got[j].Logits.AsSpan().SequenceEqual(sequential[pick[j]]))
                        failures.Enqueue($"caller {c} round {r}: Classify(\"{Texts[pick[j]]}\") in a batch of {pick.Length}");
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(2)), "a caller did not finish: deadlock?");
        Assert.Empty(failures);
    }

    [Fact]
    public void APoolUsedByManyCallersStillComputesEachCallInFull()
    {
        // The pool serialises concurrent For calls; a lost or doubled range would show as a wrong sum.
        using var pool = new WorkerPool(4);
        var failures = 0;
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 8 }, c =>
        {
            var work = new CountingWork(1000);
            for (int r = 0; r < 50; r++)
            {
                Array.Clear(work.Hits);
                pool.For(work.Hits.Length, work);
                if (work.Hits.Any(h => h != 1)) Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }

    private sealed class CountingWork(int n) : IParallelWork
    {
        public readonly int[] Hits = new int[n];
        public void Execute(int start, int end, int worker) { for (int i = start; i < end; i++) Hits[i]++; }
    }
}
