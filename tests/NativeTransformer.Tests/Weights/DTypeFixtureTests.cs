using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>
/// Reads ../shared/reference/safetensors_dtypes/dtypes.safetensors (written by Hugging Face's safetensors) and checks
/// every tensor against dtypes.json: values bit for bit (±inf, -0.0, int64 extremes, 0-d and zero-element tensors).
/// </summary>
public sealed class DTypeFixtureTests : IDisposable
{
    private static readonly string Folder = TestPaths.Reference("safetensors_dtypes");
    private static readonly string FilePath = Path.Combine(Folder, "dtypes.safetensors");
    private readonly SafetensorsFile _file = SafetensorsFile.Open(FilePath);
    private readonly JsonDocument _expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "dtypes.json")));

    public void Dispose()
    {
        _file.Dispose();
        _expected.Dispose();
    }

    private JsonElement Expected(string name) => _expected.RootElement.GetProperty("tensors").GetProperty(name);

    [Theory]
    [InlineData("i64")]
    [InlineData("f64")]
    [InlineData("empty_f32")]
    [InlineData("f32")]
    [InlineData("f32_special")]
    [InlineData("scalar_f32")]
    [InlineData("i32")]
    [InlineData("bf16")]
    [InlineData("f16")]
    [InlineData("i16")]
    [InlineData("i8")]
    [InlineData("u8")]
    [InlineData("bool")]
    public void TensorMatchesReferenceValues(string name)
    {
        var expected = Expected(name);
        var info = _file.GetInfo(name);

        Assert.Equal(expected.GetProperty("dtype").GetString(), info.DType.HeaderName());
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), info.Shape);
        var offsets = expected.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(8 + _file.HeaderLength + offsets[0], info.FileOffset);
        Assert.Equal(offsets[1] - offsets[0], info.ByteLength);
        Assert.Equal(info.ByteLength, _file.GetBytes(name).Length);

        var values = Flatten(expected.GetProperty("values")).ToList();
        Assert.Equal(info.ElementCount, values.Count);

        if (info.DType.IsFloatingPoint())
        {
            var actual = _file.GetFloat32(name).ToArray();
            Assert.Equal(values.Count, actual.Length);
            for (int i = 0; i < actual.Length; i++)
            {
                float want = (float)ParseDouble(values[i]);
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{name}[{i}]: expected {want:R} got {actual[i]:R}");
            }
            Assert.Throws<WeightException>(() => _file.GetInt64(name));
        }
        else
        {
            var actual = _file.GetInt64(name);
            var want = values.Select(v => v.ValueKind is JsonValueKind.True ? 1L : v.ValueKind is JsonValueKind.False ? 0L : v.GetInt64());
            Assert.Equal(want, actual);
            var e = Assert.Throws<WeightException>(() => _file.GetFloat32(name));
            Assert.Equal(name, e.Key);
            Assert.Contains(info.DType.HeaderName(), e.Message);
        }
    }

    [Fact]
    public void AllThirteenTensorsAndMetadataAreRead()
    {
        var names = _expected.RootElement.GetProperty("tensors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(13, _file.Tensors.Count);
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), _file.Tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(_expected.RootElement.GetProperty("header_len").GetInt64(), _file.HeaderLength);
        foreach (var p in _expected.RootElement.GetProperty("metadata").EnumerateObject())
            Assert.Equal(p.Value.GetString(), _file.Metadata[p.Name]);
        Assert.Equal(2, _file.Metadata.Count);
    }

    [Fact]
    public void TensorsAreListedInFileOrder()
    {
        var offsets = _file.Tensors.Select(t => t.FileOffset).ToList();
        Assert.Equal(offsets.Order(), offsets);
        Assert.Equal("i64", _file.Tensors[0].Name);
        Assert.Equal("bool", _file.Tensors[^1].Name);
    }

    [Fact]
    public void Int64ExtremesAndSignedZeroSurvive()
    {
        Assert.Equal([long.MinValue, -1, 0, long.MaxValue], _file.GetInt64("i64"));
        var f32 = _file.GetFloat32("f32").Span;
        Assert.True(float.IsNegative(f32[1]) && f32[1] == 0f, "-0.0 must keep its sign");
        var special = _file.GetFloat32("f32_special").Span;
        Assert.Equal(float.PositiveInfinity, special[0]);
        Assert.Equal(float.NegativeInfinity, special[1]);
        Assert.Equal(float.NegativeInfinity, _file.GetFloat32("f16").Span[7]);
    }

    [Fact]
    public void ScalarAndEmptyTensorsHaveTheRightShape()
    {
        var scalar = _file.GetInfo("scalar_f32");
        Assert.Empty(scalar.Shape);
        Assert.Equal(1, scalar.ElementCount);
        Assert.Equal([42f], _file.GetFloat32("scalar_f32").ToArray());

        var empty = _file.GetInfo("empty_f32");
        Assert.Equal([0L, 3L], empty.Shape);
        Assert.Equal(0, empty.ElementCount);
        Assert.True(_file.GetFloat32("empty_f32").IsEmpty);
        Assert.True(_file.GetBytes("empty_f32").IsEmpty);
    }

    [Fact]
    public void HalfPrecisionBitsMatchTheReference()
    {
        AssertBits("bf16", "bf16_bits_hex");
        AssertBits("f16", "f16_bits_hex");

        void AssertBits(string name, string key)
        {
            var bytes = _file.GetBytes(name);
            var want = _expected.RootElement.GetProperty(key).EnumerateArray().Select(e => ushort.Parse(e.GetString()!, NumberStyles.HexNumber)).ToArray();
            for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]));
        }
    }

    [Fact]
    public void Float64IsNarrowedAndRawBytesKeepFullPrecision()
    {
        var raw = _file.GetBytes("f64");
        Assert.Equal(1.0 / 3.0, BinaryPrimitives.ReadDoubleLittleEndian(raw));
        Assert.Equal(-1e300, BinaryPrimitives.ReadDoubleLittleEndian(raw[8..]));
        var narrowed = _file.GetFloat32("f64").Span;
        Assert.Equal((float)(1.0 / 3.0), narrowed[0]);
        Assert.Equal(float.NegativeInfinity, narrowed[1]);
    }

    [Fact]
    public void ConvertedTensorsAreCachedAndF32IsZeroCopy()
    {
        Assert.True(_file.GetFloat32("bf16").Equals(_file.GetFloat32("bf16")));
        // F32 data at an aligned offset is served straight from the mapping: same address as GetBytes.
        var info = _file.GetInfo("f32");
        Assert.Equal(0, info.FileOffset % 4);
        unsafe
        {
            fixed (float* f = _file.GetFloat32("f32").Span)
            fixed (byte* b = _file.GetBytes("f32"))
                Assert.True((byte*)f == b);
        }
    }

    [Fact]
    public void RewritingTheFixtureWithOurWriterIsByteIdentical()
    {
        using var dir = new TempDir();
        string copy = dir.File("dtypes.safetensors");
        SafetensorsWriter.Write(copy,
            _file.Tensors.Select(t => TensorToWrite.FromBytes(t.Name, t.DType, t.Shape, _file.GetBytes(t.Name))),
            _file.Metadata);
        Assert.Equal(File.ReadAllBytes(FilePath), File.ReadAllBytes(copy));
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array) { yield return e; yield break; }
        foreach (var child in e.EnumerateArray())
            foreach (var leaf in Flatten(child)) yield return leaf;
    }

    private static double ParseDouble(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch
        {
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            "nan" => double.NaN,
            var s => throw new InvalidDataException("unexpected value " + s),
        }
        : e.GetDouble();
}
