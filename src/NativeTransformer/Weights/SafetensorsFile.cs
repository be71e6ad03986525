using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace NativeTransformer.Weights;

/// <summary>
/// A memory-mapped, strictly validated safetensors file.
/// </summary>
/// <remarks>
/// <para>Validation follows the reference Rust crate: an 8-byte little-endian header length N of at most 100 MB
/// (<see cref="MaxHeaderBytes"/>); a strict-UTF-8 JSON object header beginning with <c>{</c>; known dtypes;
/// non-negative integer shapes whose byte size is computed with checked arithmetic; <c>data_offsets</c> whose span equals
/// that byte size; and tensors that, sorted by offset, cover the data section exactly (no gap, no overlap, no trailing
/// bytes). Every violation throws <see cref="SafetensorsException"/> naming the file and, where known, the tensor.</para>
/// <para>The whole file stays mapped until <see cref="Dispose"/>: spans and memory handed out point into the mapping
/// and must not be used afterwards. Instances are safe to read from several threads.</para>
/// </remarks>
public sealed class SafetensorsFile : ITensorSource
{
    /// <summary>Largest accepted header in bytes (100 MB, as the Rust crate).</summary>
    public const long MaxHeaderBytes = SafetensorsHeaderParser.MaxHeaderBytes;

    private readonly MappedFile _file;
    private readonly IReadOnlyList<TensorInfo> _tensors;
    private readonly Dictionary<string, TensorInfo> _byName;
    private readonly ConcurrentDictionary<string, ReadOnlyMemory<float>> _floatCache = new(StringComparer.Ordinal);

    private SafetensorsFile(string path, MappedFile file, SafetensorsHeaderParser.Header header, long headerLength)
    {
        Path = path;
        _file = file;
        _tensors = header.Tensors;
        Metadata = header.Metadata;
        HeaderLength = headerLength;
        _byName = new Dictionary<string, TensorInfo>(_tensors.Count, StringComparer.Ordinal);
        foreach (var t in _tensors) _byName.Add(t.Name, t);
    }

    /// <summary>Reads the 8-byte little-endian header length at the stream's position and checks it against the size cap
    /// and the <paramref name="length"/>-byte file (shared with <see cref="SafetensorsHeaderReader"/>).</summary>
    internal static long ReadHeaderLength(Stream stream, long length, string fullPath)
    {
        if (length < 8)
            throw new SafetensorsException(SafetensorsError.TooSmall, fullPath, null,
                $"the file is {length} bytes; a safetensors file starts with an 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw new SafetensorsException(SafetensorsError.HeaderTooLarge, fullPath, null,
                $"the header length {n} exceeds the {MaxHeaderBytes}-byte limit");
        if (8 + (long)n > length)
            throw new SafetensorsException(SafetensorsError.HeaderOutOfBounds, fullPath, null,
                $"the header length {n} reaches past the end of the {length}-byte file");
        return (long)n;
    }

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="SafetensorsException"/> on any format violation.</summary>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = System.IO.Path.GetFullPath(path);

        FileStream stream;
        try { stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new SafetensorsException(SafetensorsError.Io, fullPath, null, $"cannot open the file: {e.Message}");
        }

        MappedFile? mapped = null;
        bool opened = false;
        try
        {
            long length = stream.Length;
            long headerLength = ReadHeaderLength(stream, length, fullPath);
            long dataStart = 8 + headerLength;

            mapped = new MappedFile(stream);
            var header = SafetensorsHeaderParser.Parse(mapped.Span(8, (int)headerLength), dataStart, length - dataStart, fullPath);
            var file = new SafetensorsFile(fullPath, mapped, header, headerLength);
            opened = true;
            return file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SafetensorsException(SafetensorsError.Io, fullPath, null, $"cannot read or map the file: {e.Message}");
        }
        finally
        {
            // On success the stream belongs to the mapping, which disposes it; on any failure release everything.
            if (!opened)
            {
                mapped?.Dispose();
                stream.Dispose();
            }
        }
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>Length N of the JSON header in bytes; the data section starts at 8 + N.</summary>
    public long HeaderLength { get; }

    /// <summary>The header's <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>All tensors in data order (by offset in the file; zero-size tensors sharing an offset keep header order).</summary>
    public IReadOnlyList<TensorInfo> Tensors => _tensors;

    public bool TryGetInfo(string name, out TensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>The header entry for <paramref name="name"/>; <see cref="WeightException"/> when absent.</summary>
    public TensorInfo GetInfo(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw Absent(name);

    /// <summary>Raw little-endian bytes, zero-copy from the mapping. Valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var info = GetInfo(name);
        return _file.Span(info.FileOffset, CheckedSpanLength(info, info.ByteLength));
    }

    /// <summary>
    /// The tensor as float32. F32 data is zero-copy when 4-byte aligned in the file (the usual case) and copied once
    /// otherwise; F16 and BF16 are widened exactly, F64 narrowed (round to nearest; out-of-range values become ±infinity).
    /// Converted arrays are cached, so each tensor is converted at most once. Integer dtypes throw <see cref="WeightException"/>.
    /// </summary>
    public ReadOnlyMemory<float> GetFloat32(string name)
    {
        if (_floatCache.TryGetValue(name, out var cached)) { _file.ThrowIfDisposed(); return cached; }
        var info = GetInfo(name);
        if (!info.DType.IsFloatingPoint())
            throw new WeightException(name, $"{Path}: tensor '{name}' has dtype {info.DType.HeaderName()}, not a floating-point dtype (F32, F16, BF16, F64)");
        int count = CheckedSpanLength(info, info.ElementCount);
        CheckedSpanLength(info, info.ByteLength);

        ReadOnlyMemory<float> memory;
        unsafe
        {
            bool aligned = ((nuint)(_file.Base + info.FileOffset) & 3) == 0;
            memory = info.DType == DType.F32 && aligned && BitConverter.IsLittleEndian
                ? new MappedFloatMemory(_file, info.FileOffset, count).Memory
                : TensorConversions.ToFloat32(GetBytes(name), info.DType);
        }
        return _floatCache.GetOrAdd(name, memory);
    }

    /// <summary>An integer tensor (I64, I32, I16, I8, U64, U32, U16, U8, BOOL as 0/1) widened to a new long array.
    /// Float dtypes, and U64 values above <see cref="long.MaxValue"/>, throw <see cref="WeightException"/>.</summary>
    public long[] GetInt64(string name)
    {
        var info = GetInfo(name);
        if (info.DType.IsFloatingPoint())
            throw new WeightException(name, $"{Path}: tensor '{name}' has dtype {info.DType.HeaderName()}, not an integer dtype");
        CheckedSpanLength(info, info.ElementCount);
        return TensorConversions.ToInt64(GetBytes(name), info.DType, name);
    }

    /// <summary>Unmaps the file. Memory handed out earlier becomes invalid.</summary>
    public void Dispose() => _file.Dispose();

    private int CheckedSpanLength(TensorInfo info, long length) =>
        length <= Array.MaxLength
            ? (int)length
            : throw new WeightException(info.Name, $"{Path}: tensor '{info.Name}' {info.ShapeText} is too large to hand out as one span ({length} elements or bytes)");

    private WeightException Absent(string name)
    {
        _file.ThrowIfDisposed();
        return new WeightException(name, $"{Path}: no tensor named '{name}' (the file has {_tensors.Count} tensors)");
    }
}
