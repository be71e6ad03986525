using System.Buffers.Binary;
using System.Text;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>Reader behaviour beyond the reference fixture: lookups, errors, alignment, lifetime, edge-case headers.</summary>
public sealed class SafetensorsFileTests
{
    private static SafetensorsFile OpenBytes(TempDir dir, byte[] bytes, string name = "t.safetensors")
    {
        File.WriteAllBytes(dir.File(name), bytes);
        return SafetensorsFile.Open(dir.File(name));
    }

    [Fact]
    public void AbsentTensorThrowsWeightExceptionWithTheFullKey()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [TensorToWrite.FromFloat32("a.weight", [1], [1f])]);
        using var file = SafetensorsFile.Open(dir.File("m.safetensors"));
        const string key = "bert.encoder.layer.3.attention.self.query.weight";
        var e = Assert.Throws<WeightException>(() => file.GetFloat32(key));
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
        Assert.Contains(file.Path, e.Message);
        Assert.Throws<WeightException>(() => file.GetBytes(key).Length);
        Assert.Throws<WeightException>(() => file.GetInt64(key));
        Assert.False(file.TryGetInfo(key, out _));
    }

    [Fact]
    public void MisalignedFloat32IsCopiedAndCorrect()
    {
        // Header of length 9 (not a multiple of 4) puts the data section at offset 17.
        string json = "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
        while ((8 + json.Length) % 4 != 1) json += " "; // trailing spaces put the data at 8 + N ≡ 1 (mod 4)
        var header = Encoding.UTF8.GetBytes(json);
        Assert.NotEqual(0, (8 + header.Length) % 4);
        var data = new byte[12];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(8), float.Epsilon);
        using var dir = new TempDir();
        using var file = OpenBytes(dir, RawSafetensors.Concat(RawSafetensors.Prefix((ulong)header.Length), header, data));
        Assert.Equal([1.5f, -2f, float.Epsilon], file.GetFloat32("t").ToArray());
    }

    [Fact]
    public void UnsignedIntegersWidenAndHugeU64IsRefused()
    {
        using var dir = new TempDir();
        var u16 = new byte[4]; BinaryPrimitives.WriteUInt16LittleEndian(u16, 65535); BinaryPrimitives.WriteUInt16LittleEndian(u16.AsSpan(2), 1);
        var u32 = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(u32, uint.MaxValue);
        var u64ok = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(u64ok, long.MaxValue);
        var u64bad = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(u64bad, ulong.MaxValue);
        SafetensorsWriter.Write(dir.File("u.safetensors"),
        [
            TensorToWrite.FromBytes("u16", DType.U16, [2], u16), TensorToWrite.FromBytes("u32", DType.U32, [1], u32),
            TensorToWrite.FromBytes("u64ok", DType.U64, [1], u64ok), TensorToWrite.FromBytes("u64bad", DType.U64, [1], u64bad),
        ]);
        using var file = SafetensorsFile.Open(dir.File("u.safetensors"));
        Assert.Equal([65535L, 1L], file.GetInt64("u16"));
        Assert.Equal([(long)uint.MaxValue], file.GetInt64("u32"));
        Assert.Equal([long.MaxValue], file.GetInt64("u64ok"));
        var e = Assert.Throws<WeightException>(() => file.GetInt64("u64bad"));
        Assert.Equal("u64bad", e.Key);
    }

    [Fact]
    public void BoolValuesOtherThanOneReadAsOne()
    {
        using var dir = new TempDir();
        var header = Encoding.UTF8.GetBytes("{\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}");
        using var file = OpenBytes(dir, RawSafetensors.Concat(RawSafetensors.Prefix((ulong)header.Length), header, [0, 1, 7]));
        Assert.Equal([0L, 1L, 1L], file.GetInt64("b"));
    }

    [Fact]
    public void DisposedFileRefusesAccess()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [TensorToWrite.FromFloat32("w", [2], [1f, 2f])]);
        var file = SafetensorsFile.Open(dir.File("m.safetensors"));
        var memory = file.GetFloat32("w");
        Assert.Equal(2f, memory.Span[1]);
        file.Dispose();
        file.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => file.GetBytes("w").Length);
        Assert.Throws<ObjectDisposedException>(() => file.GetFloat32("w"));
        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);
    }

    [Fact]
    public void MissingFileAndFolderAreIoErrors()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(dir.File("nope.safetensors")));
        Assert.Equal(SafetensorsError.Io, missing.Error);
        Assert.Contains("nope.safetensors", missing.Message);
        var folder = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(dir.Path));
        Assert.Equal(SafetensorsError.Io, folder.Error);
    }

    [Fact]
    public void EmptyHeaderWithNoDataIsAValidEmptyFile()
    {
        using var dir = new TempDir();
        using var file = OpenBytes(dir, RawSafetensors.Build("{}", 0));
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void NullMetadataUnknownFieldsAndTrailingSpacesAreAccepted()
    {
        string json = "{\"__metadata__\":null,\"t\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],\"extra\":{\"x\":[1]}}}    ";
        using var dir = new TempDir();
        using var file = OpenBytes(dir, RawSafetensors.Build(json, 2));
        Assert.Empty(file.Metadata);
        Assert.Equal([0L, 1L], file.GetInt64("t"));
    }

    [Fact]
    public void ZeroSizeTensorsMayShareAnOffset()
    {
        string json = "{\"z2\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}," +
                      "\"z1\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[4,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        using var dir = new TempDir();
        using var file = OpenBytes(dir, RawSafetensors.Build(json, 8));
        Assert.Equal(["a", "z2", "z1", "b"], file.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void ConcurrentReadersGetTheSameConvertedTensor()
    {
        using var dir = new TempDir();
        var values = Enumerable.Range(0, 1000).Select(i => (float)i).ToArray();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [TensorToWrite.FromBFloat16("w", [1000], values)]);
        using var file = SafetensorsFile.Open(dir.File("m.safetensors"));
        var results = new ReadOnlyMemory<float>[8];
        Parallel.For(0, results.Length, i => results[i] = file.GetFloat32("w"));
        foreach (var r in results) Assert.Equal(results[0].ToArray(), r.ToArray());
        Assert.True(file.GetFloat32("w").Equals(file.GetFloat32("w")));
    }

    [Fact]
    public void HeaderLengthExactlyAtTheCapIsNotRejectedAsTooLarge()
    {
        // N = 100 MB is allowed by the cap; the (small) file is then too short for it.
        using var dir = new TempDir();
        var e = Assert.Throws<SafetensorsException>(() => OpenBytes(dir, RawSafetensors.Concat(RawSafetensors.Prefix(100_000_000), "{}"u8.ToArray())));
        Assert.Equal(SafetensorsError.HeaderOutOfBounds, e.Error);
        var over = Assert.Throws<SafetensorsException>(() => OpenBytes(dir, RawSafetensors.Concat(RawSafetensors.Prefix(100_000_001), "{}"u8.ToArray()), "b.safetensors"));
        Assert.Equal(SafetensorsError.HeaderTooLarge, over.Error);
    }

    [Fact]
    public void TensorSourceExtensionGetInfoNamesTheKey()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [TensorToWrite.FromInt64("ids", [2], [1, 2])]);
        using ITensorSource source = SafetensorsFile.Open(dir.File("m.safetensors"));
        Assert.Equal(DType.I64, source.GetInfo("ids").DType);
        Assert.Equal("missing.key", Assert.Throws<WeightException>(() => source.GetInfo("missing.key")).Key);
    }
}
