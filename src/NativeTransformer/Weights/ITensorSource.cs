namespace NativeTransformer.Weights;

/// <summary>
/// Named tensors of one checkpoint: a single safetensors file or a sharded set. The model loader
/// reads weights only through this interface, so it does not care where the bytes live.
/// Memory handed out stays valid until the source is disposed.
/// </summary>
public interface ITensorSource : IDisposable
{
    /// <summary>All tensors, in a stable order (shards in index order, then file order).</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>Header entry for <paramref name="name"/>, or false when absent.</summary>
    bool TryGetInfo(string name, out TensorInfo info);

    /// <summary>Raw little-endian bytes of the tensor, zero-copy from the mapped file.</summary>
    ReadOnlySpan<byte> GetBytes(string name);

    /// <summary>The tensor as float32: zero-copy for F32; F16, BF16 and F64 are converted once and cached.
    /// Throws <see cref="WeightException"/> for absent names and integer dtypes.</summary>
    ReadOnlyMemory<float> GetFloat32(string name);

    /// <summary>An integer tensor (I64/I32/I16/I8/U8/BOOL) widened to long. Throws for float dtypes.</summary>
    long[] GetInt64(string name);
}
