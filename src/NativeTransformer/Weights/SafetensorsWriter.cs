namespace NativeTransformer.Weights;

/// <summary>One tensor to write: name, dtype, shape and its little-endian bytes.</summary>
public sealed record TensorToWrite(string Name, DType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    public static TensorToWrite FromFloat32(string name, long[] shape, ReadOnlySpan<float> values) => throw new NotImplementedException();
    public static TensorToWrite FromInt64(string name, long[] shape, ReadOnlySpan<long> values) => throw new NotImplementedException();
}

/// <summary>Writes spec-conformant safetensors files. (Contract stub.)</summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> (atomically: temp file then rename).</summary>
    public static void Write(string path, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null) => throw new NotImplementedException();
}
