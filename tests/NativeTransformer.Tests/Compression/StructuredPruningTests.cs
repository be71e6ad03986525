using NativeTransformer.Compression;

namespace NativeTransformer.Tests.Compression;

/// <summary>The pure functions of structured pruning on hand-built blocks whose answer is known.</summary>
public sealed class StructuredPruningTests
{
    [Theory]
    [InlineData(4, 0.0, 0)]
    [InlineData(4, 0.25, 1)]
    [InlineData(4, 0.49, 1)]
    [InlineData(4, 0.5, 2)]
    [InlineData(4, 0.99, 3)]   // one head always stays
    [InlineData(1, 0.5, 0)]
    [InlineData(12, 0.29, 3)]  // decimal: 0.29·12 = 3.48
    public void HeadsToRemove(int heads, double fraction, int expected) => Assert.Equal(expected, StructuredPruning.HeadsToRemove(heads, fraction));

    [Theory]
    [InlineData(1024, 0.0, 1, 1024)]
    [InlineData(1024, 0.3, 1, 717)]   // 1024 - floor(307.2)
    [InlineData(1024, 0.3, 16, 720)]  // 717 → nearest multiple of 16
    [InlineData(1024, 0.5, 16, 512)]
    [InlineData(1024, 0.1, 16, 928)]  // 922 → 928
    [InlineData(1024, 0.99, 16, 16)]  // at least one multiple
    [InlineData(10, 0.5, 16, 5)]      // fewer neurons than the multiple: no rounding
    [InlineData(512, 0.29, 1, 364)]   // decimal: 0.29·512 = 148.48
    public void NeuronsToKeep(int neurons, double fraction, int multiple, int expected) =>
        Assert.Equal(expected, StructuredPruning.NeuronsToKeep(neurons, fraction, multiple));

    [Fact]
    public void FractionsOutsideZeroToOneAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StructuredPruning.HeadsToRemove(4, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => StructuredPruning.NeuronsToKeep(4, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StructuredPruning.NeuronsToKeep(4, double.NaN));
    }

    /// <summary>H = 2, D = 2, 3 heads with original indices 0, 2, 3 (head 1 pruned before). Head j's query/key/value rows
    /// and output columns hold <paramref name="scale"/>[j]·(distinct value), so the importance order is the scale order.</summary>
    private static AttentionBlock Block(float[] scale)
    {
        const int h = 2, d = 2, heads = 3, a = heads * d;
        float[] Rows(int offset)
        {
            var w = new float[a * h];
            for (int r = 0; r < a; r++) for (int c = 0; c < h; c++) w[r * h + c] = scale[r / d] * (offset + r * h + c + 1);
            return w;
        }
        var output = new float[h * a];
        for (int r = 0; r < h; r++) for (int c = 0; c < a; c++) output[r * a + c] = scale[c / d] * (100 + r * a + c);
        float[] Bias(int offset) => Enumerable.Range(0, a).Select(i => (float)(offset + i)).ToArray();
        return new AttentionBlock(Rows(0), Bias(10), Rows(20), Bias(30), Rows(40), Bias(50), output, h, d, [0, 2, 3]);
    }

    [Fact]
    public void HeadImportanceIsTheFrobeniusNormOfTheHeadsWeights()
    {
        var block = Block([1, 1, 1]);
        var importance = StructuredPruning.HeadImportance(block);
        // Head 0: query/key/value rows 0..1, output columns 0..1.
        double expected = 0;
        foreach (var w in new[] { block.Query, block.Key, block.Value }) for (int i = 0; i < 4; i++) expected += w[i] * w[i];
        for (int r = 0; r < 2; r++) for (int c = 0; c < 2; c++) expected += block.Output[r * 6 + c] * block.Output[r * 6 + c];
        Assert.Equal(Math.Sqrt(expected), importance[0], 9);
        Assert.True(importance[0] < importance[1] && importance[1] < importance[2]); // values grow with the index
    }

    [Fact]
    public void PruneHeadsRemovesTheLeastImportantAndReportsOriginalIndices()
    {
        var block = Block([5, 0.01f, 3]);
        var (pruned, removed) = StructuredPruning.PruneHeads(block, 1);
        Assert.Equal([2], removed);              // local head 1 is original head 2
        Assert.Equal([0, 3], pruned.OriginalHeads); // order kept
        Assert.Equal(4 * 2, pruned.Query.Length);
        Assert.Equal(4, pruned.KeyBias.Length);
        Assert.Equal(2 * 4, pruned.Output.Length);
        // Kept rows: local heads 0 and 2 → old rows 0,1,4,5; kept output columns likewise.
        Assert.Equal(new[] { 0, 1, 4, 5 }.SelectMany(r => block.Value.Skip(r * 2).Take(2)), pruned.Value);
        Assert.Equal(new float[] { 50, 51, 54, 55 }, pruned.ValueBias);
        Assert.Equal(new[] { 0, 6 }.SelectMany(r => new[] { 0, 1, 4, 5 }.Select(c => block.Output[r + c])), pruned.Output);

        var (twice, removedTwice) = StructuredPruning.PruneHeads(block, 2);
        Assert.Equal([2, 3], removedTwice);
        Assert.Equal([0], twice.OriginalHeads);
        Assert.Throws<ArgumentException>(() => StructuredPruning.RemoveHeads(block, [0, 1, 2]));
    }

    [Fact]
    public void TiesGoToTheLowerIndex() => Assert.Equal([0, 2], StructuredPruning.Lowest([1.0, 2.0, 1.0, 1.0], 2));

    [Fact]
    public void NeuronImportanceIsTheProductOfInputRowAndOutputColumnNorms()
    {
        // H = 2, N = 4. Neuron 0 reads strongly but writes nothing; neuron 3 is small everywhere; 1 and 2 are large.
        float[] w1 = [100, 100, 3, 4, 6, 8, 0.1f, 0.1f];           // [4, 2] rows: norms 141.4, 5, 10, 0.14
        float[] w2 = [0, 1, 2, 0.1f, 0, 1, 2, 0.1f];               // [2, 4] columns: norms 0, 1.41, 2.83, 0.14
        var block = new FfnBlock(w1, [1, 2, 3, 4], w2, 2, 4);
        var importance = StructuredPruning.NeuronImportance(block);
        Assert.Equal(0, importance[0]);
        Assert.Equal(5 * Math.Sqrt(2), importance[1], 5);
        var pruned = StructuredPruning.PruneNeurons(block, 2);
        Assert.Equal(2, pruned.Neurons);
        Assert.Equal(new float[] { 3, 4, 6, 8 }, pruned.In);      // neurons 1 and 2 kept, in order
        Assert.Equal(new float[] { 2, 3 }, pruned.InBias);
        Assert.Equal(new float[] { 1, 2, 1, 2 }, pruned.Out);
    }
}
