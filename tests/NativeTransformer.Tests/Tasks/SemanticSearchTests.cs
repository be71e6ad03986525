namespace NativeTransformer.Tests.Tasks;

/// <summary>Top-k search over float / int8 / binary corpora against a sort-everything oracle, and on real embeddings.</summary>
public class SemanticSearchTests
{
    private static float[][] RandomVectors(int count, int dims, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, dims).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    /// <summary>The oracle: score every row in double (or exact ints), sort by score then row, take k.</summary>
    private static int[] Oracle(int count, Func<int, double> score, int k) =>
        Enumerable.Range(0, count).OrderByDescending(score).ThenBy(r => r).Take(k).ToArray();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(33, 10)]
    [InlineData(384, 25)]
    public void EveryPrecisionReturnsTheOraclesTopK(int dims, int k)
    {
        var corpus = RandomVectors(500, dims, seed: dims);
        var query = RandomVectors(1, dims, seed: dims + 1000)[0];

        var dot = EmbeddingCorpus.Float32(corpus).Search(query, k, SimilarityMetric.Dot);
        var dotScores = corpus.Select(v => v.Zip(query, (a, b) => (double)a * b).Sum()).ToArray();
        // Float sums differ from double in the last bits: compare the rows whose oracle scores are clearly separated.
        Assert.Equal(Oracle(500, r => dotScores[r], k), dot.Select(h => h.Index).ToArray());
        for (int i = 0; i < k; i++) Assert.Equal(dotScores[dot[i].Index], dot[i].Score, 1e-4);

        var cosine = EmbeddingCorpus.Float32(corpus).Search(query, k);
        double qn = Math.Sqrt(query.Sum(x => (double)x * x));
        var cosScores = corpus.Select((v, r) => dotScores[r] / (qn * Math.Sqrt(v.Sum(x => (double)x * x)))).ToArray();
        Assert.Equal(Oracle(500, r => cosScores[r], k), cosine.Select(h => h.Index).ToArray());

        var int8 = EmbeddingCorpus.Int8(corpus);
        var stored = corpus.Select(v => EmbeddingQuantization.ToInt8(v, int8.Ranges!)).ToArray();
        var q8 = EmbeddingQuantization.ToInt8(query, int8.Ranges!);
        var int8Scores = stored.Select(v => v.Zip(q8, (a, b) => a * b).Sum()).ToArray();
        var int8Hits = int8.Search(query, k);
        Assert.Equal(Oracle(500, r => int8Scores[r], k), int8Hits.Select(h => h.Index).ToArray());
        Assert.Equal(int8Hits.Select(h => (float)int8Scores[h.Index]), int8Hits.Select(h => h.Score));

        var binary = EmbeddingCorpus.Binary(corpus);
        var equalBits = corpus.Select(v => v.Zip(query, (a, b) => (a > 0) == (b > 0) ? 1 : 0).Sum()).ToArray();
        var binaryHits = binary.Search(query, k);
        Assert.Equal(Oracle(500, r => equalBits[r], k), binaryHits.Select(h => h.Index).ToArray());   // ties: lower row first
        Assert.Equal(500L * ((dims + 7) / 8), binary.StorageBytes);

        // Rescoring: k·3 candidates by the quantized score, reordered by the float query's dot with the stored values.
        var candidates = Oracle(500, r => equalBits[r], Math.Min(500, 3 * k));
        var rescored = candidates.Select(r => (r, s: (double)corpus[r].Select((x, i) => x > 0 ? query[i] : 0f).Sum()))
            .OrderByDescending(p => p.s).ThenBy(p => p.r).Take(k).Select(p => p.r).ToArray();
        Assert.Equal(rescored, binary.Search(query, k, rescoreMultiplier: 3).Select(h => h.Index).ToArray());
    }

    [Fact]
    public void TopKLargerThanTheCorpusReturnsEveryRowAndBadArgumentsAreRefused()
    {
        var corpus = EmbeddingCorpus.Float32(RandomVectors(5, 8, 1));
        Assert.Equal(5, corpus.Search(RandomVectors(1, 8, 2)[0], 100).Length);
        Assert.Throws<InputException>(() => corpus.Search(new float[7], 1));
        Assert.Throws<InputException>(() => corpus.Search(new float[8], 0));
        Assert.Throws<InputException>(() => EmbeddingCorpus.Float32([]));
        Assert.Throws<InputException>(() => EmbeddingCorpus.Int8([new float[3], new float[4]]));
    }

    [Fact]
    public void RealEmbeddingsFindTheirOwnSentenceInEveryPrecision()
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-mini-sst2"), new LoadOptions { Threads = 1 });
        var lines = File.ReadLines(TestPaths.Data("sst2", "dev.tsv")).Skip(1).Take(200).Select(l => l.Split('\t')[0]).ToArray();
        var vectors = model.Embed(lines);
        var cosine = EmbeddingCorpus.Float32(vectors);
        var binary = EmbeddingCorpus.Binary(vectors);
        var int8 = EmbeddingCorpus.Int8(vectors);
        int int8Self = 0, overlap = 0, queries = 0;
        for (int i = 0; i < lines.Length; i += 10, queries++)
        {
            // Cosine and Hamming are largest for the vector itself: rank 1 (these 200 sentences are distinct).
            Assert.Equal(i, cosine.Search(vectors[i], 1)[0].Index);
            Assert.Equal(i, binary.Search(vectors[i], 1)[0].Index);
            // The int8 dot is a dot, not a cosine: the vector itself need not win, but the top 10 should mostly agree.
            var top = cosine.Search(vectors[i], 10).Select(h => h.Index).ToHashSet();
            var top8 = int8.Search(vectors[i], 10, rescoreMultiplier: 1).Select(h => h.Index).ToArray();
            if (top8.Contains(i)) int8Self++;
            overlap += top8.Count(top.Contains);
        }
        Assert.True(int8Self >= queries * 6 / 10 && overlap >= queries * 3, $"int8: itself in its top 10 for {int8Self}/{queries}, overlap with cosine {overlap}/{queries * 10}");
    }
}
