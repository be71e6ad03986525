using NativeTransformer.Kernels;

namespace NativeTransformer;

/// <summary>How <see cref="EmbeddingCorpus.Search"/> scores a float corpus.</summary>
public enum SimilarityMetric
{
    /// <summary>Cosine similarity (corpus norms computed once).</summary>
    Cosine,
    /// <summary>Dot product (equals cosine for normalised embeddings, and is cheaper).</summary>
    Dot,
}

/// <summary>One search result: the corpus row and its score (higher is better).</summary>
/// <param name="Index">Row of the corpus, in the order the vectors were added.</param>
/// <param name="Score">Float corpus: cosine or dot. Int8: the int8·int8 dot of query and row. Binary: the number of equal
/// bits (bits − Hamming distance). After rescoring: the float query's dot with the stored values, as sentence-transformers.</param>
public readonly record struct SearchHit(int Index, float Score);

/// <summary>
/// Exact top-k search over an in-memory corpus of embeddings stored at one <see cref="VectorPrecision"/>: float32
/// (cosine or dot), int8 (the query is quantized with the corpus's ranges; int8 dot) or ubinary (the query's sign bits;
/// Hamming distance). A brute-force scan, SIMD per row, one thread: no index to build, results deterministic (ties: lower
/// row first). Quantized corpora can rescore, as sentence-transformers' semantic_search_*: fetch k × multiplier candidates,
/// then order them by the float query's dot with the stored values (int8 values, or bits as 0/1).
/// </summary>
public sealed class EmbeddingCorpus
{
    private readonly float[]? _floats;
    private readonly float[]? _norms;
    private readonly sbyte[]? _int8;
    private readonly byte[]? _bits;
    private readonly int _rowBytes;

    public VectorPrecision Precision { get; }
    public int Dimensions { get; }
    public int Count { get; }
    /// <summary>The int8 calibration ranges (int8 corpora), else null.</summary>
    public QuantizationRanges? Ranges { get; }

    /// <summary>Bytes the stored vectors take (float32: 4 per dimension; int8: 1; binary: 1/8).</summary>
    public long StorageBytes => (long)Count * EmbeddingQuantization.BytesPerVector(Precision, Dimensions);

    private EmbeddingCorpus(VectorPrecision precision, int dimensions, int count, float[]? floats, sbyte[]? int8, byte[]? bits, QuantizationRanges? ranges)
    {
        Precision = precision; Dimensions = dimensions; Count = count; _floats = floats; _int8 = int8; _bits = bits; Ranges = ranges;
        _rowBytes = EmbeddingQuantization.BytesPerVector(precision, dimensions);
        if (floats is not null)
        {
            _norms = new float[count];
            for (int r = 0; r < count; r++) _norms[r] = System.Numerics.Tensors.TensorPrimitives.Norm(floats.AsSpan(r * dimensions, dimensions));
        }
    }

    /// <summary>A float32 corpus (the vectors are copied).</summary>
    public static EmbeddingCorpus Float32(IReadOnlyList<float[]> vectors)
    {
        int d = CheckVectors(vectors);
        var data = new float[(long)vectors.Count * d];
        for (int r = 0; r < vectors.Count; r++) vectors[r].CopyTo(data, (long)r * d);
        return new EmbeddingCorpus(VectorPrecision.Float32, d, vectors.Count, data, null, null, null);
    }

    /// <summary>An int8 corpus quantized with <paramref name="ranges"/> (default: calibrated on the corpus itself).</summary>
    public static EmbeddingCorpus Int8(IReadOnlyList<float[]> vectors, QuantizationRanges? ranges = null)
    {
        int d = CheckVectors(vectors);
        ranges ??= QuantizationRanges.Calibrate(vectors);
        var data = new sbyte[(long)vectors.Count * d];
        for (int r = 0; r < vectors.Count; r++) EmbeddingQuantization.ToInt8(vectors[r], ranges, data.AsSpan(r * d, d));
        return new EmbeddingCorpus(VectorPrecision.Int8, d, vectors.Count, null, data, null, ranges);
    }

    /// <summary>A binary corpus: each vector's sign bits, packed (ubinary).</summary>
    public static EmbeddingCorpus Binary(IReadOnlyList<float[]> vectors)
    {
        int d = CheckVectors(vectors), bytes = (d + 7) / 8;
        var data = new byte[(long)vectors.Count * bytes];
        for (int r = 0; r < vectors.Count; r++) EmbeddingQuantization.ToUbinary(vectors[r], data.AsSpan(r * bytes, bytes));
        return new EmbeddingCorpus(VectorPrecision.Ubinary, d, vectors.Count, null, null, data, null);
    }

    /// <summary>The <paramref name="topK"/> best rows for <paramref name="query"/>, best first.</summary>
    /// <param name="query">A float embedding of the corpus's size (quantized like the corpus for int8 / binary).</param>
    /// <param name="topK">Results wanted (fewer when the corpus is smaller).</param>
    /// <param name="metric">Float corpora only: cosine or dot.</param>
    /// <param name="rescoreMultiplier">Quantized corpora: 1 = no rescoring; m &gt; 1 = take k·m candidates and reorder
    /// them by the float query's dot with their stored values (sentence-transformers' rescore, default multiplier 2 there).</param>
    public SearchHit[] Search(ReadOnlySpan<float> query, int topK, SimilarityMetric metric = SimilarityMetric.Cosine, int rescoreMultiplier = 1)
    {
        if (query.Length != Dimensions) throw new InputException($"the query has {query.Length} dimensions, the corpus {Dimensions}");
        if (topK < 1) throw new InputException($"top-k must be at least 1, got {topK}");
        if (rescoreMultiplier < 1) throw new InputException($"rescore multiplier must be at least 1, got {rescoreMultiplier}");
        int k = Math.Min(topK, Count);
        if (k == 0) return [];
        if (Precision == VectorPrecision.Float32) return Scan(k, FloatScorer(query, metric));
        int candidates = Math.Min(Count, (int)Math.Min(int.MaxValue, (long)k * rescoreMultiplier));
        var hits = Precision == VectorPrecision.Int8 ? Scan(candidates, Int8Scorer(query)) : Scan(candidates, BinaryScorer(query));
        if (rescoreMultiplier == 1) return hits;
        for (int i = 0; i < hits.Length; i++) hits[i] = new SearchHit(hits[i].Index, StoredDot(query, hits[i].Index));
        Array.Sort(hits, Better);
        return hits[..k];
    }

    private delegate float RowScorer(int row);

    private RowScorer FloatScorer(ReadOnlySpan<float> query, SimilarityMetric metric)
    {
        var q = query.ToArray();
        var data = _floats!;
        int d = Dimensions;
        if (metric == SimilarityMetric.Dot) return r => SimilarityKernels.Dot(q, data.AsSpan(r * d, d));
        if (metric != SimilarityMetric.Cosine) throw new InputException($"unknown similarity metric {(int)metric}");
        float qn = System.Numerics.Tensors.TensorPrimitives.Norm(q);
        var norms = _norms!;
        return r =>
        {
            float denominator = qn * norms[r];
            return denominator > 0 ? SimilarityKernels.Dot(q, data.AsSpan(r * d, d)) / denominator : 0f;
        };
    }

    private RowScorer Int8Scorer(ReadOnlySpan<float> query)
    {
        var q = EmbeddingQuantization.ToInt8(query, Ranges!);
        var data = _int8!;
        int d = Dimensions;
        return r => SimilarityKernels.DotInt8(q, data.AsSpan(r * d, d));
    }

    private RowScorer BinaryScorer(ReadOnlySpan<float> query)
    {
        var q = EmbeddingQuantization.ToUbinary(query);
        var data = _bits!;
        int bytes = _rowBytes, bits = Dimensions;
        return r => bits - SimilarityKernels.Hamming(q, data.AsSpan(r * bytes, bytes));
    }

    /// <summary>The float query's dot with row <paramref name="row"/>'s stored values (int8 values, or bits as 0/1).</summary>
    private float StoredDot(ReadOnlySpan<float> query, int row)
    {
        float sum = 0;
        if (Precision == VectorPrecision.Int8)
        {
            var stored = _int8.AsSpan(row * Dimensions, Dimensions);
            for (int i = 0; i < query.Length; i++) sum += query[i] * stored[i];
        }
        else
        {
            var stored = _bits.AsSpan(row * _rowBytes, _rowBytes);
            for (int i = 0; i < query.Length; i++) if ((stored[i >> 3] & (0x80 >> (i & 7))) != 0) sum += query[i];
        }
        return sum;
    }

    /// <summary>The k best rows by <paramref name="score"/>: a size-k min-heap (worst on top) over one pass, then sorted.</summary>
    private SearchHit[] Scan(int k, RowScorer score)
    {
        var heap = new SearchHit[k];
        int size = 0;
        for (int r = 0; r < Count; r++)
        {
            var hit = new SearchHit(r, score(r));
            if (size < k) { heap[size] = hit; SiftUp(heap, size++); }
            else if (Better(hit, heap[0]) < 0) { heap[0] = hit; SiftDown(heap, k); }
        }
        Array.Sort(heap, Better);
        return heap;
    }

    /// <summary>Negative when a ranks before b: higher score, then lower row (NaN scores rank last).</summary>
    private static int Better(SearchHit a, SearchHit b)
    {
        int c = b.Score.CompareTo(a.Score);
        return c != 0 ? c : a.Index.CompareTo(b.Index);
    }

    private static void SiftUp(SearchHit[] heap, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (Better(heap[parent], heap[i]) >= 0) break; // parent already ranks after (is worse than) the child
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(SearchHit[] heap, int size)
    {
        int i = 0;
        while (true)
        {
            int worst = i, l = 2 * i + 1, r = l + 1;
            if (l < size && Better(heap[l], heap[worst]) > 0) worst = l;
            if (r < size && Better(heap[r], heap[worst]) > 0) worst = r;
            if (worst == i) return;
            (heap[worst], heap[i]) = (heap[i], heap[worst]);
            i = worst;
        }
    }

    private static int CheckVectors(IReadOnlyList<float[]> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count == 0) throw new InputException("the corpus has no vectors");
        int d = vectors[0]?.Length ?? throw new InputException("vector 0 is null");
        if (d == 0) throw new InputException("vector 0 is empty");
        for (int r = 1; r < vectors.Count; r++)
            if ((vectors[r]?.Length ?? -1) != d) throw new InputException($"vector {r} has {vectors[r]?.Length.ToString() ?? "no"} dimensions, vector 0 has {d}");
        return d;
    }
}
