using System.Text.Json;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>
/// TEST HELPER ONLY: a minimal safetensors reader (8-byte little-endian header length, JSON header, raw data)
/// used by the tokenizer tests to read input_ids / token_type_ids / attention_mask from the reference files.
/// It exists because the library's SafetensorsFile was not written yet; swap it for that once it works.
/// </summary>
internal sealed class MiniSafetensorsReader
{
    private readonly byte[] _bytes;
    private readonly long _dataStart;
    private readonly Dictionary<string, (string Dtype, long[] Shape, long Begin, long End)> _tensors = new();

    public MiniSafetensorsReader(string path)
    {
        _bytes = File.ReadAllBytes(path);
        long headerLen = BitConverter.ToInt64(_bytes, 0);
        _dataStart = 8 + headerLen;
        using var doc = JsonDocument.Parse(_bytes.AsMemory(8, (int)headerLen));
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            var dtype = p.Value.GetProperty("dtype").GetString()!;
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offs = p.Value.GetProperty("data_offsets");
            _tensors[p.Name] = (dtype, shape, offs[0].GetInt64(), offs[1].GetInt64());
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public long[] Shape(string name) => _tensors[name].Shape;

    /// <summary>An I64 tensor as a flat long array (row-major).</summary>
    public long[] ReadInt64(string name)
    {
        var (dtype, _, begin, end) = _tensors[name];
        if (dtype != "I64") throw new InvalidOperationException($"{name} is {dtype}, not I64");
        var result = new long[(end - begin) / 8];
        Buffer.BlockCopy(_bytes, (int)(_dataStart + begin), result, 0, (int)(end - begin));
        return result;
    }
}
