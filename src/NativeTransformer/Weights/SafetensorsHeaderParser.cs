using System.Text.Json;
using System.Text.Unicode;

namespace NativeTransformer.Weights;

/// <summary>
/// Parses and strictly validates the JSON header of a safetensors file, following the rules of the
/// reference Rust crate (<c>safetensors::SafeTensors::read_metadata</c> / <c>Metadata::validate</c>).
/// </summary>
/// <remarks>
/// Works on the header bytes in two passes with <see cref="Utf8JsonReader"/> (no DOM, no reflection):
/// <list type="number">
/// <item>a syntax pass that only walks tokens: invalid JSON is <see cref="SafetensorsError.HeaderNotJson"/>,
/// nesting deeper than <see cref="MaxNestingDepth"/> or a root that is not an object is
/// <see cref="SafetensorsError.InvalidHeader"/>. It allocates nothing, so hostile headers cost only time linear in their size;</item>
/// <item>a structural pass that reads entries, knowing the JSON is well formed.</item>
/// </list>
/// All size arithmetic is checked. Unknown fields inside a tensor entry are skipped, as serde does in the Rust crate.
/// </remarks>
internal static class SafetensorsHeaderParser
{
    /// <summary>Largest accepted header, in bytes: 100 MB, the cap of the Rust crate (<c>MAX_HEADER_SIZE</c>).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Deepest accepted JSON nesting. A valid header needs 3 levels (root, entry, shape array);
    /// the margin leaves room for unknown nested fields without letting hostile input nest without bound.</summary>
    public const int MaxNestingDepth = 8;

    /// <summary>Most dimensions a shape may have. PyTorch and NumPy stop at 64 or fewer.</summary>
    public const int MaxRank = 64;

    private const string MetadataKey = "__metadata__";

    /// <summary>Result of a successful parse: tensors in data order (by offset, ties in header order) and metadata.</summary>
    public sealed record Header(IReadOnlyList<TensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata);

    private sealed record Entry(string Name, DType DType, long[] Shape, long Begin, long End, int HeaderIndex);

    /// <summary>Parses <paramref name="header"/>; <paramref name="dataStart"/> is 8 + header length (the absolute
    /// offset of the data section) and <paramref name="dataSize"/> the number of bytes after it, or -1 when unknown
    /// (a header read without the data, e.g. for a memory estimate: then only the end-of-file checks are skipped).</summary>
    public static Header Parse(ReadOnlySpan<byte> header, long dataStart, long dataSize, string path)
    {
        if (!Utf8.IsValid(header))
            throw new SafetensorsException(SafetensorsError.HeaderNotUtf8, path, null, "the header is not valid UTF-8");
        CheckSyntax(header, path);
        if (header[0] != (byte)'{')
            throw new SafetensorsException(SafetensorsError.InvalidHeader, path, null,
                "the header must begin with '{' (no leading whitespace or byte-order mark)");

        var (entries, metadata) = ReadEntries(header, path);
        var tensors = ValidateLayout(entries, dataStart, dataSize, path);
        return new Header(tensors, metadata);
    }

    /// <summary>Pass 1: well-formed JSON, a single object at the root, bounded nesting.</summary>
    private static void CheckSyntax(ReadOnlySpan<byte> header, string path)
    {
        // The reader's own limit is above ours so that depth is always reported by us, as InvalidHeader.
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = MaxNestingDepth + 8 });
        try
        {
            if (!reader.Read())
                throw new SafetensorsException(SafetensorsError.HeaderNotJson, path, null, "the header is empty");
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new SafetensorsException(SafetensorsError.InvalidHeader, path, null,
                    $"the header must be a JSON object, found {Describe(reader.TokenType)}");
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= MaxNestingDepth)
                    throw new SafetensorsException(SafetensorsError.InvalidHeader, path, null,
                        $"the header JSON is nested deeper than {MaxNestingDepth} levels");
            }
        }
        catch (JsonException e)
        {
            throw new SafetensorsException(SafetensorsError.HeaderNotJson, path, null,
                $"the header is not valid JSON (byte {e.BytePositionInLine}: {FirstSentence(e.Message)})");
        }
    }

    /// <summary>Pass 2: entries and metadata. Detects duplicate keys, which JSON parsers usually let through.</summary>
    private static (List<Entry>, Dictionary<string, string>) ReadEntries(ReadOnlySpan<byte> header, string path)
    {
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = MaxNestingDepth + 8 });
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;

        reader.Read(); // StartObject, checked by pass 1
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = GetString(ref reader, path, null);
            reader.Read();
            if (name == MetadataKey)
            {
                if (metadata is not null)
                    throw new SafetensorsException(SafetensorsError.InvalidMetadata, path, null, "\"__metadata__\" appears twice");
                metadata = ReadMetadata(ref reader, path);
                continue;
            }
            if (!names.Add(name))
                throw new SafetensorsException(SafetensorsError.DuplicateTensor, path, name, "the tensor is defined twice in the header");
            entries.Add(ReadEntry(ref reader, name, entries.Count, path));
        }
        return (entries, metadata ?? new Dictionary<string, string>(StringComparer.Ordinal));
    }

    private static Dictionary<string, string> ReadMetadata(ref Utf8JsonReader reader, string path)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reader.TokenType == JsonTokenType.Null) return metadata; // the Rust crate reads null as "no metadata"
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafetensorsException(SafetensorsError.InvalidMetadata, path, null,
                $"\"__metadata__\" must be an object of strings, found {Describe(reader.TokenType)}");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = GetString(ref reader, path, null);
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw new SafetensorsException(SafetensorsError.InvalidMetadata, path, null,
                    $"\"__metadata__\" value of '{key}' must be a string, found {Describe(reader.TokenType)}");
            string value = GetString(ref reader, path, null);
            if (!metadata.TryAdd(key, value))
                throw new SafetensorsException(SafetensorsError.InvalidMetadata, path, null, $"\"__metadata__\" key '{key}' appears twice");
        }
        return metadata;
    }

    private static Entry ReadEntry(ref Utf8JsonReader reader, string name, int headerIndex, string path)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name,
                $"the entry must be an object with dtype, shape and data_offsets, found {Describe(reader.TokenType)}");

        DType? dtype = null; long[]? shape = null; long[]? offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = GetString(ref reader, path, name);
            reader.Read();
            switch (field)
            {
                case "dtype":
                    if (dtype is not null) throw Duplicate(field);
                    dtype = ReadDType(ref reader, name, path);
                    break;
                case "shape":
                    if (shape is not null) throw Duplicate(field);
                    shape = ReadShape(ref reader, name, path);
                    break;
                case "data_offsets":
                    if (offsets is not null) throw Duplicate(field);
                    offsets = ReadOffsets(ref reader, name, path);
                    break;
                default:
                    reader.Skip(); // unknown fields are ignored, as serde does for the Rust crate
                    break;
            }
        }

        if (dtype is null || shape is null || offsets is null)
            throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name,
                $"the entry lacks {(dtype is null ? "\"dtype\"" : shape is null ? "\"shape\"" : "\"data_offsets\"")}");

        long expected = ByteSize(dtype.Value, shape, name, path);
        long actual = offsets[1] - offsets[0]; // both non-negative and begin <= end: cannot overflow
        if (actual != expected)
            throw new SafetensorsException(SafetensorsError.ShapeByteMismatch, path, name,
                $"data_offsets [{offsets[0]}, {offsets[1]}] span {actual} bytes but {dtype.Value.HeaderName()} {FormatShape(shape)} needs {expected}");
        return new Entry(name, dtype.Value, shape, offsets[0], offsets[1], headerIndex);

        SafetensorsException Duplicate(string field) =>
            new(SafetensorsError.InvalidHeader, path, name, $"the entry has \"{field}\" twice");
    }

    private static DType ReadDType(ref Utf8JsonReader reader, string name, string path)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, $"\"dtype\" must be a string, found {Describe(reader.TokenType)}");
        string text = GetString(ref reader, path, name);
        if (DTypes.TryParse(text, out var dtype)) return dtype;
        string why = DTypes.IsKnownUnsupported(text)
            ? $"dtype {text} is defined by safetensors but not supported by NativeTransformer"
            : $"unknown dtype \"{Truncate(text)}\"";
        throw new SafetensorsException(SafetensorsError.UnknownDType, path, name, why);
    }

    private static long[] ReadShape(ref Utf8JsonReader reader, string name, string path)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new SafetensorsException(SafetensorsError.InvalidShape, path, name, $"\"shape\" must be an array, found {Describe(reader.TokenType)}");
        var dims = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long d) || d < 0)
                throw new SafetensorsException(SafetensorsError.InvalidShape, path, name,
                    $"shape dimension {dims.Count} must be a non-negative integer, found {DescribeValue(ref reader)}");
            if (dims.Count == MaxRank)
                throw new SafetensorsException(SafetensorsError.InvalidShape, path, name, $"the shape has more than {MaxRank} dimensions");
            dims.Add(d);
        }
        return dims.ToArray();
    }

    private static long[] ReadOffsets(ref Utf8JsonReader reader, string name, string path)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, $"\"data_offsets\" must be an array [begin, end], found {Describe(reader.TokenType)}");
        var values = new long[2];
        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (count == 2)
                throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, "\"data_offsets\" must have exactly two elements");
            if (reader.TokenType != JsonTokenType.Number)
                throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, $"\"data_offsets\" elements must be integers, found {Describe(reader.TokenType)}");
            if (!reader.TryGetInt64(out long v))
            {
                // A well-formed integer beyond long.MaxValue cannot lie inside any file we can open.
                if (reader.TryGetDecimal(out decimal big) && big == decimal.Truncate(big) && big > 0)
                    throw new SafetensorsException(SafetensorsError.OffsetsOutOfBounds, path, name, $"data offset {big} is beyond any possible file size");
                throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, $"\"data_offsets\" elements must be integers, found {DescribeValue(ref reader)}");
            }
            if (v < 0)
                throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, $"data offset {v} is negative");
            values[count++] = v;
        }
        if (count != 2)
            throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, "\"data_offsets\" must have exactly two elements");
        if (values[0] > values[1])
            throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, $"data_offsets begin {values[0]} is after end {values[1]}");
        return values;
    }

    /// <summary>Element count × element size, checked: overflow means the shape is absurd.</summary>
    internal static long ByteSize(DType dtype, long[] shape, string name, string path)
    {
        try
        {
            long count = 1;
            foreach (long d in shape) count = checked(count * d);
            return checked(count * dtype.SizeInBytes());
        }
        catch (OverflowException)
        {
            throw new SafetensorsException(SafetensorsError.InvalidShape, path, name,
                $"shape {FormatShape(shape)} of {dtype.HeaderName()} overflows a 64-bit byte count");
        }
    }

    /// <summary>
    /// The data section must be covered exactly: tensors sorted by offset start at 0, each begins where the previous
    /// ended (no gaps, no overlaps), and the last ends at the end of the file. Bytes after the last tensor (a trailing
    /// gap) are rejected like any other gap, as the Rust crate does (<c>MetadataIncompleteBuffer</c>).
    /// </summary>
    private static List<TensorInfo> ValidateLayout(List<Entry> entries, long dataStart, long dataSize, string path)
    {
        foreach (var e in entries)
            if (dataSize >= 0 && e.End > dataSize)
                throw new SafetensorsException(SafetensorsError.OffsetsOutOfBounds, path, e.Name,
                    $"data_offsets [{e.Begin}, {e.End}] reach past the end of the {dataSize}-byte data section");

        var sorted = entries.ToArray();
        Array.Sort(sorted, static (a, b) =>
            a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
            : a.End != b.End ? a.End.CompareTo(b.End)
            : a.HeaderIndex.CompareTo(b.HeaderIndex));

        long position = 0;
        string? previous = null;
        var tensors = new List<TensorInfo>(sorted.Length);
        foreach (var e in sorted)
        {
            if (e.Begin < position)
                throw new SafetensorsException(SafetensorsError.OffsetsNotContiguous, path, e.Name,
                    $"data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous}', which ends at {position}");
            if (e.Begin > position)
                throw new SafetensorsException(SafetensorsError.OffsetsNotContiguous, path, e.Name,
                    $"data_offsets [{e.Begin}, {e.End}] leave a gap of {e.Begin - position} bytes after {(previous is null ? "the start of the data section" : $"tensor '{previous}'")}");
            position = e.End;
            previous = e.Name;
            tensors.Add(new TensorInfo(e.Name, e.DType, e.Shape, checked(dataStart + e.Begin), e.End - e.Begin));
        }
        if (dataSize >= 0 && position != dataSize)
            throw new SafetensorsException(SafetensorsError.OffsetsNotContiguous, path, previous,
                $"the data section has {dataSize - position} trailing bytes not covered by any tensor (tensors end at {position} of {dataSize})");
        return tensors;
    }

    /// <summary>Reads a string token; escapes that decode to invalid UTF-16 (lone surrogates) are rejected.</summary>
    private static string GetString(ref Utf8JsonReader reader, string path, string? name)
    {
        try { return reader.GetString()!; }
        catch (InvalidOperationException)
        {
            throw new SafetensorsException(SafetensorsError.InvalidHeader, path, name, "a header string has an invalid escape (lone surrogate)");
        }
    }

    internal static string FormatShape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };

    private static string DescribeValue(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number
            ? Truncate(System.Text.Encoding.UTF8.GetString(reader.ValueSpan))
            : Describe(reader.TokenType);

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return i < 0 ? message : message[..i];
    }
}
