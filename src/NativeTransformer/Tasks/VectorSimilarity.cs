using NativeTransformer.Kernels;

namespace NativeTransformer;

/// <summary>Similarity of two stored embeddings (SIMD kernels; see <see cref="EmbeddingCorpus"/> for search).</summary>
public static class VectorSimilarity
{
    /// <summary>Cosine similarity (0 when either vector is all zeros).</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Same(a.Length, b.Length);
        float denominator = System.Numerics.Tensors.TensorPrimitives.Norm(a) * System.Numerics.Tensors.TensorPrimitives.Norm(b);
        return denominator > 0 ? SimilarityKernels.Dot(a, b) / denominator : 0f;
    }

    /// <summary>Dot product of float vectors.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) { Same(a.Length, b.Length); return SimilarityKernels.Dot(a, b); }

    /// <summary>Exact dot product of int8 vectors (the int8 corpus's score).</summary>
    public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) { Same(a.Length, b.Length); return SimilarityKernels.DotInt8(a, b); }

    /// <summary>Bits that differ between two packed (ubinary) vectors.</summary>
    public static int Hamming(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) { Same(a.Length, b.Length); return SimilarityKernels.Hamming(a, b); }

    private static void Same(int a, int b)
    {
        if (a != b) throw new InputException($"vectors differ in length: {a} and {b}");
    }
}
