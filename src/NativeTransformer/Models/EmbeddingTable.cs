using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NativeTransformer.Weights;

namespace NativeTransformer.Models;

/// <summary>
/// An embedding table [Rows, Width] that the encoder reads one row at a time: fp32 (zero-copy from the checkpoint)
/// or int8 rows with one scale per row (a <c>weights-tools quantize --embeddings int8</c> folder), dequantized on lookup
/// so no fp32 copy of the table ever exists.
/// </summary>
public abstract class EmbeddingTable
{
    public int Rows { get; }
    public int Width { get; }

    protected EmbeddingTable(int rows, int width) { Rows = rows; Width = width; }

    /// <summary>Writes row <paramref name="row"/> as fp32 into <paramref name="destination"/> [Width].</summary>
    public abstract void CopyRow(int row, Span<float> destination);

    /// <summary>The whole table as fp32 [Rows, Width]: zero-copy for fp32, a new array for int8 (the tied masked-LM decoder).</summary>
    public abstract ReadOnlyMemory<float> ToFloat32();

    public static EmbeddingTable FromFloat32(ReadOnlyMemory<float> values, int rows, int width) => new Float32Table(values, rows, width);

    private sealed class Float32Table(ReadOnlyMemory<float> values, int rows, int width) : EmbeddingTable(rows, width)
    {
        public override void CopyRow(int row, Span<float> destination) => values.Span.Slice(row * Width, Width).CopyTo(destination);
        public override ReadOnlyMemory<float> ToFloat32() => values;
    }
}

/// <summary>Int8 rows q [Rows, Width] read from the mapped checkpoint on each lookup, row r ≈ q[r, :] · scale[r].</summary>
internal sealed class Int8EmbeddingTable(ITensorSource source, string key, ReadOnlyMemory<float> scales, int rows, int width)
    : EmbeddingTable(rows, width)
{
    public string Key { get; } = key;

    public override void CopyRow(int row, Span<float> destination)
    {
        var q = MemoryMarshal.Cast<byte, sbyte>(source.GetBytes(Key).Slice(row * Width, Width));
        for (int i = 0; i < q.Length; i++) destination[i] = q[i];
        TensorPrimitives.Multiply(destination[..Width], scales.Span[row], destination[..Width]);
    }

    public override ReadOnlyMemory<float> ToFloat32()
    {
        var values = new float[(long)Rows * Width];
        for (int r = 0; r < Rows; r++) CopyRow(r, values.AsSpan(r * Width, Width));
        return values;
    }
}
