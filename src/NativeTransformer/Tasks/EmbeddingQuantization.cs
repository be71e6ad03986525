namespace NativeTransformer;

/// <summary>Storage precisions of sentence-transformers' <c>precision=</c> / <c>quantize_embeddings</c>.</summary>
public enum VectorPrecision
{
    Float32,
    /// <summary>One signed byte per dimension: 256 buckets over the dimension's calibration range, minus 128.</summary>
    Int8,
    /// <summary>One unsigned byte per dimension: 256 buckets over the dimension's calibration range.</summary>
    Uint8,
    /// <summary>Sign bits (value &gt; 0) packed 8 per byte, most significant bit first, stored as byte − 128 (signed).</summary>
    Binary,
    /// <summary>Sign bits (value &gt; 0) packed 8 per byte, most significant bit first.</summary>
    Ubinary,
}

/// <summary>Per-dimension [min, max] of int8 / uint8 quantization (sentence-transformers' <c>ranges</c>, shape (2, dim)).</summary>
public sealed record QuantizationRanges(float[] Min, float[] Max)
{
    public int Dimensions => Min.Length;

    /// <summary>The per-dimension minimum and maximum of <paramref name="calibration"/> (sentence-transformers'
    /// <c>calibration_embeddings</c>; use a few thousand representative vectors, not the queries).</summary>
    public static QuantizationRanges Calibrate(IReadOnlyList<float[]> calibration)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        if (calibration.Count == 0) throw new InputException("calibration needs at least one embedding");
        int d = calibration[0].Length;
        var min = calibration[0].ToArray();
        var max = calibration[0].ToArray();
        for (int r = 1; r < calibration.Count; r++)
        {
            var v = calibration[r];
            if (v.Length != d) throw new InputException($"calibration embedding {r} has {v.Length} dimensions, the first has {d}");
            for (int i = 0; i < d; i++) { min[i] = Math.Min(min[i], v[i]); max[i] = Math.Max(max[i], v[i]); }
        }
        return new QuantizationRanges(min, max);
    }
}

/// <summary>
/// sentence-transformers' <c>quantize_embeddings</c> in C#. int8: (x − min) / ((max − min) / 255) − 128 in float32,
/// truncated toward zero (uint8: without the −128). binary: bit = x &gt; 0, packed most significant bit first (numpy packbits);
/// "binary" is that byte − 128 as a signed byte. Differences, by design: values outside the calibration range saturate to
/// the first / last bucket (numpy's cast wraps them around), a dimension with max = min maps to bucket 0, and a row whose
/// size is not a multiple of 8 is padded with zero bits per row (numpy packs the flattened array across rows).
/// </summary>
public static class EmbeddingQuantization
{
    /// <summary>Names as sentence-transformers spells them: float32, int8, uint8, binary, ubinary.</summary>
    public static readonly string[] Names = ["float32", "int8", "uint8", "binary", "ubinary"];

    public static VectorPrecision Parse(string name)
    {
        int i = Array.IndexOf(Names, name);
        return i >= 0 ? (VectorPrecision)i : throw new InputException($"unknown precision '{name}'; expected one of {string.Join(", ", Names)}");
    }

    /// <summary>Bytes one vector of <paramref name="dimensions"/> floats takes at <paramref name="precision"/>.</summary>
    public static int BytesPerVector(VectorPrecision precision, int dimensions) => precision switch
    {
        VectorPrecision.Float32 => 4 * dimensions,
        VectorPrecision.Int8 or VectorPrecision.Uint8 => dimensions,
        _ => (dimensions + 7) / 8,
    };

    /// <summary>int8 quantization of one vector with <paramref name="ranges"/>.</summary>
    public static sbyte[] ToInt8(ReadOnlySpan<float> vector, QuantizationRanges ranges)
    {
        var output = new sbyte[vector.Length];
        ToInt8(vector, ranges, output);
        return output;
    }

    public static void ToInt8(ReadOnlySpan<float> vector, QuantizationRanges ranges, Span<sbyte> output)
    {
        CheckRanges(vector.Length, ranges);
        for (int i = 0; i < vector.Length; i++) output[i] = (sbyte)Bucket(vector[i], ranges.Min[i], ranges.Max[i], -128);
    }

    /// <summary>uint8 quantization of one vector with <paramref name="ranges"/>.</summary>
    public static byte[] ToUint8(ReadOnlySpan<float> vector, QuantizationRanges ranges)
    {
        CheckRanges(vector.Length, ranges);
        var output = new byte[vector.Length];
        for (int i = 0; i < vector.Length; i++) output[i] = (byte)Bucket(vector[i], ranges.Min[i], ranges.Max[i], 0);
        return output;
    }

    /// <summary>Sign bits (x &gt; 0) packed most significant bit first, ⌈dim/8⌉ bytes (ubinary).</summary>
    public static byte[] ToUbinary(ReadOnlySpan<float> vector)
    {
        var output = new byte[(vector.Length + 7) / 8];
        ToUbinary(vector, output);
        return output;
    }

    public static void ToUbinary(ReadOnlySpan<float> vector, Span<byte> output)
    {
        output.Clear();
        for (int i = 0; i < vector.Length; i++)
            if (vector[i] > 0) output[i >> 3] |= (byte)(0x80 >> (i & 7));
    }

    /// <summary>ubinary bytes − 128 as signed bytes (sentence-transformers' "binary").</summary>
    public static sbyte[] ToBinary(ReadOnlySpan<float> vector)
    {
        var packed = ToUbinary(vector);
        var output = new sbyte[packed.Length];
        for (int i = 0; i < packed.Length; i++) output[i] = (sbyte)(packed[i] - 128);
        return output;
    }

    /// <summary>(x − min) / step + <paramref name="offset"/> in float32, truncated toward zero as numpy's astype (the offset
    /// is added before truncating, as sentence-transformers does, so int8 is not uint8 − 128 for fractional buckets), then
    /// saturated to [offset, offset + 255].</summary>
    private static int Bucket(float x, float min, float max, int offset)
    {
        float step = (max - min) / 255f;
        if (!(step > 0)) return offset;
        float t = MathF.Truncate((x - min) / step + offset);
        return t <= offset ? offset : t >= offset + 255 ? offset + 255 : (int)t;
    }

    private static void CheckRanges(int dimensions, QuantizationRanges ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        if (ranges.Min.Length != dimensions || ranges.Max.Length != dimensions)
            throw new InputException($"quantization ranges have {ranges.Min.Length}/{ranges.Max.Length} dimensions, the vector has {dimensions}");
    }
}
