using System.Buffers.Binary;
using System.Text;

namespace NativeTransformer.Weights;

/// <summary>One tensor to write: name, dtype, shape and its little-endian bytes.</summary>
/// <remarks>The factories encode values little-endian and check that the value count matches the shape;
/// <see cref="SafetensorsWriter.Write"/> re-checks every tensor, including ones built with the constructor.</remarks>
public sealed record TensorToWrite(string Name, DType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    public static TensorToWrite FromFloat32(string name, long[] shape, ReadOnlySpan<float> values) =>
        Encode(name, DType.F32, shape, values, static (b, v) => BinaryPrimitives.WriteSingleLittleEndian(b, v));

    public static TensorToWrite FromInt64(string name, long[] shape, ReadOnlySpan<long> values) =>
        Encode(name, DType.I64, shape, values, static (b, v) => BinaryPrimitives.WriteInt64LittleEndian(b, v));

    public static TensorToWrite FromFloat64(string name, long[] shape, ReadOnlySpan<double> values) =>
        Encode(name, DType.F64, shape, values, static (b, v) => BinaryPrimitives.WriteDoubleLittleEndian(b, v));

    /// <summary>F16 tensor from <see cref="Half"/> values.</summary>
    public static TensorToWrite FromFloat16(string name, long[] shape, ReadOnlySpan<Half> values) =>
        Encode(name, DType.F16, shape, values, static (b, v) => BinaryPrimitives.WriteHalfLittleEndian(b, v));

    /// <summary>BF16 tensor from float32 values, rounded to nearest even (NaN stays NaN), as PyTorch converts.</summary>
    public static TensorToWrite FromBFloat16(string name, long[] shape, ReadOnlySpan<float> values) =>
        Encode(name, DType.BF16, shape, values, static (b, v) => BinaryPrimitives.WriteUInt16LittleEndian(b, ToBFloat16Bits(v)));

    public static TensorToWrite FromInt32(string name, long[] shape, ReadOnlySpan<int> values) =>
        Encode(name, DType.I32, shape, values, static (b, v) => BinaryPrimitives.WriteInt32LittleEndian(b, v));

    public static TensorToWrite FromInt16(string name, long[] shape, ReadOnlySpan<short> values) =>
        Encode(name, DType.I16, shape, values, static (b, v) => BinaryPrimitives.WriteInt16LittleEndian(b, v));

    public static TensorToWrite FromInt8(string name, long[] shape, ReadOnlySpan<sbyte> values) =>
        Encode(name, DType.I8, shape, values, static (b, v) => b[0] = (byte)v);

    public static TensorToWrite FromUInt8(string name, long[] shape, ReadOnlySpan<byte> values) =>
        Encode(name, DType.U8, shape, values, static (b, v) => b[0] = v);

    public static TensorToWrite FromBool(string name, long[] shape, ReadOnlySpan<bool> values) =>
        Encode(name, DType.BOOL, shape, values, static (b, v) => b[0] = v ? (byte)1 : (byte)0);

    /// <summary>Any dtype from raw little-endian bytes (copied), checked against the shape.</summary>
    public static TensorToWrite FromBytes(string name, DType dtype, long[] shape, ReadOnlySpan<byte> littleEndianBytes)
    {
        var t = new TensorToWrite(name, dtype, (long[])shape.Clone(), littleEndianBytes.ToArray());
        SafetensorsWriter.Validate(t);
        return t;
    }

    /// <summary>Float32 → bfloat16 bits with round-to-nearest-even; NaN keeps a quiet NaN payload.</summary>
    internal static ushort ToBFloat16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    private delegate void EncodeOne<T>(Span<byte> destination, T value);

    private static TensorToWrite Encode<T>(string name, DType dtype, long[] shape, ReadOnlySpan<T> values, EncodeOne<T> encode)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        long count = SafetensorsWriter.ElementCount(name, shape);
        if (count != values.Length)
            throw new ArgumentException($"tensor '{name}': shape {SafetensorsHeaderParser.FormatShape(shape)} has {count} elements but {values.Length} values were given", nameof(values));
        int size = dtype.SizeInBytes();
        var bytes = new byte[checked(values.Length * size)];
        for (int i = 0; i < values.Length; i++) encode(bytes.AsSpan(i * size, size), values[i]);
        return new TensorToWrite(name, dtype, (long[])shape.Clone(), bytes);
    }
}

/// <summary>Writes spec-conformant safetensors files, byte-compatible with Hugging Face's writer
/// (see <see cref="SafetensorsLayout"/> for ordering, header format and padding).</summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> (atomically: temp file then rename).</summary>
    /// <remarks>
    /// Throws <see cref="ArgumentException"/> for a tensor whose byte length differs from shape × dtype size, a negative
    /// or overflowing shape, a duplicate name, a name <c>__metadata__</c>, or a name or metadata string that is not
    /// valid UTF-16. The data is written to a temporary file in the target folder, flushed to disk, and moved over
    /// <paramref name="path"/>, so readers never see a half-written file.
    /// </remarks>
    public static void Write(string path, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in list)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(tensors));
            Validate(t);
            if (!names.Add(t.Name)) throw new ArgumentException($"tensor '{t.Name}' is given twice", nameof(tensors));
        }
        if (metadata is not null)
            foreach (var (key, value) in metadata)
                if (key is null || value is null) throw new ArgumentException("metadata keys and values must not be null", nameof(metadata));

        List<SafetensorsLayout.Placed> placed;
        byte[] header;
        try
        {
            var entries = new List<(string, DType, long[], long)>(list.Count);
            foreach (var t in list) entries.Add((t.Name, t.DType, t.Shape, (long)t.Data.Length));
            placed = SafetensorsLayout.Place(entries);
            header = SafetensorsLayout.BuildHeader(placed, metadata);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("a tensor name or metadata string is not valid UTF-16 (lone surrogate)", e);
        }

        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no parent folder", nameof(path));
        string temp = Path.Combine(directory, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (var p in placed) stream.Write(list[p.InputIndex].Data.Span);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Checks one tensor: name, non-negative shape, byte length = element count × dtype size.</summary>
    internal static void Validate(TensorToWrite t)
    {
        ArgumentNullException.ThrowIfNull(t.Name, nameof(TensorToWrite.Name));
        ArgumentNullException.ThrowIfNull(t.Shape, nameof(TensorToWrite.Shape));
        if (t.Name == "__metadata__")
            throw new ArgumentException("'__metadata__' is reserved for the header's metadata and cannot name a tensor");
        if (!Enum.IsDefined(t.DType))
            throw new ArgumentException($"tensor '{t.Name}': {(int)t.DType} is not a safetensors dtype");
        long count = ElementCount(t.Name, t.Shape);
        long expected;
        try { expected = checked(count * t.DType.SizeInBytes()); }
        catch (OverflowException) { throw new ArgumentException($"tensor '{t.Name}': shape {SafetensorsHeaderParser.FormatShape(t.Shape)} overflows a 64-bit byte count"); }
        if (expected != t.Data.Length)
            throw new ArgumentException($"tensor '{t.Name}': {t.DType.HeaderName()} {SafetensorsHeaderParser.FormatShape(t.Shape)} needs {expected} bytes but {t.Data.Length} were given");
    }

    internal static long ElementCount(string name, long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': shape {SafetensorsHeaderParser.FormatShape(shape)} has a negative dimension");
            try { count = checked(count * d); }
            catch (OverflowException) { throw new ArgumentException($"tensor '{name}': shape {SafetensorsHeaderParser.FormatShape(shape)} overflows a 64-bit element count"); }
        }
        return count;
    }
}
