namespace NativeTransformer.Weights;

/// <summary>A memory-mapped, strictly validated safetensors file. (Contract stub; implemented in the safetensors work item.)</summary>
public sealed class SafetensorsFile : ITensorSource
{
    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="SafetensorsException"/> on any format violation.</summary>
    public static SafetensorsFile Open(string path) => throw new NotImplementedException();
    public string Path => throw new NotImplementedException();
    /// <summary>The header's <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata => throw new NotImplementedException();
    public IReadOnlyList<TensorInfo> Tensors => throw new NotImplementedException();
    public bool TryGetInfo(string name, out TensorInfo info) => throw new NotImplementedException();
    public ReadOnlySpan<byte> GetBytes(string name) => throw new NotImplementedException();
    public ReadOnlyMemory<float> GetFloat32(string name) => throw new NotImplementedException();
    public long[] GetInt64(string name) => throw new NotImplementedException();
    public void Dispose() { }
}
