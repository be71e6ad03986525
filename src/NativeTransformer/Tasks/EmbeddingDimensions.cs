using System.Numerics.Tensors;

namespace NativeTransformer;

/// <summary>
/// Matryoshka truncation: the first <c>dimensions</c> floats of an embedding, L2-normalised again (what sentence-transformers'
/// <c>truncate_dim</c> followed by normalisation and OpenAI's <c>dimensions</c> return). Models trained with a Matryoshka loss
/// keep most of their quality in the leading dimensions; on other models truncation still works but loses more.
/// </summary>
public static class EmbeddingDimensions
{
    /// <summary>Throws <see cref="InputException"/> unless 1 ≤ <paramref name="dimensions"/> ≤ <paramref name="size"/>.</summary>
    public static void Check(int dimensions, int size)
    {
        if (dimensions < 1) throw new InputException($"dimensions must be at least 1, got {dimensions}");
        if (dimensions > size)
            throw new InputException($"dimensions {dimensions} is more than this model's embedding size of {size}; ask for at most {size}");
    }

    /// <summary>A new vector: the first <paramref name="dimensions"/> floats of <paramref name="vector"/>, scaled to unit L2
    /// norm (an all-zero prefix stays zero).</summary>
    public static float[] Truncate(ReadOnlySpan<float> vector, int dimensions)
    {
        Check(dimensions, vector.Length);
        var result = vector[..dimensions].ToArray();
        float norm = TensorPrimitives.Norm(result);
        if (norm > 0) TensorPrimitives.Divide(result, norm, result);
        return result;
    }
}
