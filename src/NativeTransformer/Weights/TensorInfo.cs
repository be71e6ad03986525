namespace NativeTransformer.Weights;

/// <summary>One header entry of a safetensors file. Offsets are absolute positions in the file.</summary>
/// <param name="Name">The tensor's key, e.g. <c>bert.embeddings.word_embeddings.weight</c>.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions; empty for a 0-d (scalar) tensor.</param>
/// <param name="FileOffset">Absolute byte offset of the first element in the file.</param>
/// <param name="ByteLength">Number of data bytes (= element count × element size, validated).</param>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long FileOffset, long ByteLength)
{
    /// <summary>Product of <see cref="Shape"/> (1 for a 0-d tensor).</summary>
    public long ElementCount { get { long n = 1; foreach (var d in Shape) n *= d; return n; } }

    /// <summary>Shape as text, e.g. <c>[30522, 256]</c>, for error messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
