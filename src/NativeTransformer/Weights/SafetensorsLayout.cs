using System.Text;

namespace NativeTransformer.Weights;

/// <summary>
/// Decides where each tensor goes in a safetensors file and produces the padded header bytes, exactly as
/// Hugging Face's Rust writer (<c>safetensors::serialize</c>) does, so files we write are byte-identical to theirs.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Order: dtype descending in <see cref="DType"/> declaration order (U64, I64, F64, F32, U32, I32, BF16, F16,
/// U16, I16, I8, U8, BOOL — largest elements first, so every tensor is naturally aligned), then name by UTF-8 bytes.</item>
/// <item>Header: compact JSON, <c>__metadata__</c> first (keys sorted by UTF-8 bytes) then tensors in data order;
/// strings escaped like serde_json (only <c>"</c>, <c>\</c> and control characters).</item>
/// <item>Padding: spaces after the JSON until its length is a multiple of 8, so the data section starts 8-byte aligned.</item>
/// </list>
/// </remarks>
internal static class SafetensorsLayout
{
    /// <summary>A tensor's place in the data section.</summary>
    public sealed record Placed(string Name, DType DType, long[] Shape, long Begin, long End, int InputIndex);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Tensors (name, dtype, shape, byte length) in writer order with their data offsets.</summary>
    public static List<Placed> Place(IReadOnlyList<(string Name, DType DType, long[] Shape, long ByteLength)> tensors)
    {
        var keys = tensors.Select(t => StrictUtf8.GetBytes(t.Name)).ToArray();
        var order = Enumerable.Range(0, tensors.Count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            int byDType = ((int)tensors[b].DType).CompareTo((int)tensors[a].DType);
            return byDType != 0 ? byDType : keys[a].AsSpan().SequenceCompareTo(keys[b]);
        });
        var placed = new List<Placed>(tensors.Count);
        long offset = 0;
        foreach (int i in order)
        {
            var t = tensors[i];
            long end = checked(offset + t.ByteLength);
            placed.Add(new Placed(t.Name, t.DType, t.Shape, offset, end, i));
            offset = end;
        }
        return placed;
    }

    /// <summary>The header JSON for <paramref name="placed"/>, padded with spaces to a multiple of 8 bytes.</summary>
    public static byte[] BuildHeader(IReadOnlyList<Placed> placed, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new StringBuilder();
        json.Append('{');
        bool first = true;
        if (metadata is not null && metadata.Count > 0)
        {
            json.Append("\"__metadata__\":{");
            var entries = new (string Key, byte[] Bytes, string Value)[metadata.Count];
            int n = 0;
            foreach (var kv in metadata) entries[n++] = (kv.Key, StrictUtf8.GetBytes(kv.Key), kv.Value);
            Array.Sort(entries, (a, b) => a.Bytes.AsSpan().SequenceCompareTo(b.Bytes));
            for (int i = 0; i < entries.Length; i++)
            {
                if (i > 0) json.Append(',');
                AppendString(json, entries[i].Key);
                json.Append(':');
                AppendString(json, entries[i].Value);
            }
            json.Append('}');
            first = false;
        }
        foreach (var t in placed)
        {
            if (!first) json.Append(',');
            first = false;
            AppendString(json, t.Name);
            json.Append(":{\"dtype\":\"").Append(t.DType.HeaderName()).Append("\",\"shape\":[")
                .AppendJoin(',', t.Shape).Append("],\"data_offsets\":[")
                .Append(t.Begin).Append(',').Append(t.End).Append("]}");
        }
        json.Append('}');

        byte[] raw = StrictUtf8.GetBytes(json.ToString());
        int padded = checked((raw.Length + 7) / 8 * 8);
        if (padded == raw.Length) return raw;
        var result = new byte[padded];
        raw.CopyTo(result, 0);
        result.AsSpan(raw.Length).Fill((byte)' ');
        return result;
    }

    /// <summary>Appends a JSON string the way serde_json writes it.</summary>
    private static void AppendString(StringBuilder json, string s)
    {
        json.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    if (c < 0x20) json.Append("\\u00").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    else json.Append(c);
                    break;
            }
        }
        json.Append('"');
    }
}
