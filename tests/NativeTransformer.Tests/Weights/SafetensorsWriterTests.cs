using System.Buffers.Binary;
using System.Text;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>Writer: round trips for every dtype, Hugging Face layout (order, padding), validation, atomic replace.</summary>
public sealed class SafetensorsWriterTests
{
    private static TensorToWrite[] OneOfEachDType() =>
    [
        TensorToWrite.FromFloat32("f32", [2, 2], [0f, -0f, float.PositiveInfinity, -1.25e-30f]),
        TensorToWrite.FromFloat64("f64", [3], [Math.PI, double.NegativeInfinity, -0.0]),
        TensorToWrite.FromFloat16("f16", [2], [(Half)1.5f, Half.MaxValue]),
        TensorToWrite.FromBFloat16("bf16", [2], [1f, -2.5f]),
        TensorToWrite.FromInt64("i64", [2], [long.MinValue, long.MaxValue]),
        TensorToWrite.FromInt32("i32", [2], [int.MinValue, int.MaxValue]),
        TensorToWrite.FromInt16("i16", [2], [short.MinValue, short.MaxValue]),
        TensorToWrite.FromInt8("i8", [2], [sbyte.MinValue, sbyte.MaxValue]),
        TensorToWrite.FromUInt8("u8", [2], [0, 255]),
        TensorToWrite.FromBool("bool", [3], [true, false, true]),
        TensorToWrite.FromBytes("u16", DType.U16, [1], [0xFF, 0xFF]),
        TensorToWrite.FromBytes("u32", DType.U32, [1], [1, 0, 0, 0]),
        TensorToWrite.FromBytes("u64", DType.U64, [1], [2, 0, 0, 0, 0, 0, 0, 0]),
        TensorToWrite.FromFloat32("scalar", [], [7f]),
        TensorToWrite.FromFloat32("empty", [0, 4], []),
    ];

    [Fact]
    public void EveryDTypeRoundTripsThroughTheStrictReader()
    {
        using var dir = new TempDir();
        var tensors = OneOfEachDType();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["quote\"and\\slash"] = "line\nbreak\u0001 é 🙂" };
        SafetensorsWriter.Write(dir.File("all.safetensors"), tensors, metadata);

        using var file = SafetensorsFile.Open(dir.File("all.safetensors"));
        Assert.Equal(tensors.Length, file.Tensors.Count);
        foreach (var t in tensors)
        {
            var info = file.GetInfo(t.Name);
            Assert.Equal(t.DType, info.DType);
            Assert.Equal(t.Shape, info.Shape);
            Assert.Equal(t.Data.ToArray(), file.GetBytes(t.Name).ToArray());
        }
        Assert.Equal(metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal), file.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal));

        Assert.Equal([0f, -0f, float.PositiveInfinity, -1.25e-30f], file.GetFloat32("f32").ToArray());
        Assert.True(float.IsNegative(file.GetFloat32("f32").Span[1]));
        Assert.Equal([(float)Math.PI, float.NegativeInfinity, -0f], file.GetFloat32("f64").ToArray());
        Assert.Equal([1.5f, 65504f], file.GetFloat32("f16").ToArray());
        Assert.Equal([1f, -2.5f], file.GetFloat32("bf16").ToArray());
        Assert.Equal([long.MinValue, long.MaxValue], file.GetInt64("i64"));
        Assert.Equal([int.MinValue, (long)int.MaxValue], file.GetInt64("i32"));
        Assert.Equal([short.MinValue, (long)short.MaxValue], file.GetInt64("i16"));
        Assert.Equal([-128L, 127L], file.GetInt64("i8"));
        Assert.Equal([0L, 255L], file.GetInt64("u8"));
        Assert.Equal([1L, 0L, 1L], file.GetInt64("bool"));
        Assert.Equal([65535L], file.GetInt64("u16"));
        Assert.Equal([1L], file.GetInt64("u32"));
        Assert.Equal([2L], file.GetInt64("u64"));
        Assert.Equal([7f], file.GetFloat32("scalar").ToArray());
        Assert.True(file.GetFloat32("empty").IsEmpty);
    }

    [Fact]
    public void LayoutFollowsHuggingFaceOrderAndAlignsTheDataSection()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("all.safetensors"), OneOfEachDType().Reverse());
        using var file = SafetensorsFile.Open(dir.File("all.safetensors"));

        Assert.Equal(0, (8 + file.HeaderLength) % 8);
        Assert.Equal(["u64", "i64", "f64", "empty", "f32", "scalar", "u32", "i32", "bf16", "f16", "u16", "i16", "i8", "u8", "bool"],
            file.Tensors.Select(t => t.Name));
        foreach (var t in file.Tensors) Assert.Equal(0, t.FileOffset % t.DType.SizeInBytes());

        var bytes = File.ReadAllBytes(dir.File("all.safetensors"));
        var header = Encoding.UTF8.GetString(bytes, 8, (int)file.HeaderLength);
        Assert.StartsWith("{\"u64\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[0,8]},", header);
        Assert.EndsWith("}", header.TrimEnd(' ')); // only space padding after the JSON
        Assert.True(header.Length - header.TrimEnd(' ').Length < 8);
    }

    [Fact]
    public void SameInputWritesIdenticalBytes()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("a.safetensors"), OneOfEachDType(), new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        SafetensorsWriter.Write(dir.File("b.safetensors"), OneOfEachDType().Reverse(), new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        Assert.Equal(File.ReadAllBytes(dir.File("a.safetensors")), File.ReadAllBytes(dir.File("b.safetensors")));
    }

    [Fact]
    public void EmptyTensorListWritesAValidFile()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("e.safetensors"), []);
        Assert.Equal(16, new FileInfo(dir.File("e.safetensors")).Length); // 8 + "{}" padded to 8
        using var file = SafetensorsFile.Open(dir.File("e.safetensors"));
        Assert.Empty(file.Tensors);
    }

    [Fact]
    public void BFloat16FactoryRoundsToNearestEven()
    {
        Assert.Equal(0x3F80, TensorToWrite.ToBFloat16Bits(1f));
        Assert.Equal(0x3F80, TensorToWrite.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie -> even
        Assert.Equal(0x3F82, TensorToWrite.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie -> even (up)
        Assert.Equal(0x3F81, TensorToWrite.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F808001)));
        Assert.Equal(0x7F80, TensorToWrite.ToBFloat16Bits(float.PositiveInfinity));
        Assert.True(float.IsNaN(BitConverter.Int32BitsToSingle(TensorToWrite.ToBFloat16Bits(float.NaN) << 16)));
    }

    [Fact]
    public void InvalidTensorsAreRefusedWithClearMessages()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");

        var mismatch = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new TensorToWrite("w", DType.F32, [3], new byte[8])]));
        Assert.Contains("'w'", mismatch.Message);
        Assert.Contains("12", mismatch.Message);

        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path,
            [TensorToWrite.FromFloat32("w", [1], [1f]), TensorToWrite.FromFloat32("w", [1], [2f])])).Message);
        Assert.Contains("__metadata__", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path,
            [TensorToWrite.FromFloat32("__metadata__", [1], [1f])])).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path,
            [new TensorToWrite("n", DType.U8, [-1], Array.Empty<byte>())])).Message);
        Assert.Contains("overflows", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path,
            [new TensorToWrite("o", DType.F64, [1L << 62, 4], Array.Empty<byte>())])).Message);
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new TensorToWrite("d", (DType)99, [0], Array.Empty<byte>())]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [TensorToWrite.FromFloat32("bad\ud800", [1], [1f])]));
        Assert.Throws<ArgumentException>(() => TensorToWrite.FromFloat32("w", [2, 2], [1f, 2f, 3f]));
        Assert.Throws<ArgumentException>(() => TensorToWrite.FromBytes("w", DType.I32, [2], [1, 2, 3]));

        Assert.False(File.Exists(path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void WritingReplacesAnExistingFileAndLeavesNoTemporaryFiles()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        File.WriteAllText(path, "old contents");
        SafetensorsWriter.Write(path, [TensorToWrite.FromFloat32("w", [1], [3f])]);
        using (var file = SafetensorsFile.Open(path)) Assert.Equal([3f], file.GetFloat32("w").ToArray());
        Assert.Equal(["m.safetensors"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName));

        // A failed write (the folder does not exist) leaves nothing behind and throws an I/O error.
        Assert.ThrowsAny<IOException>(() => SafetensorsWriter.Write(dir.File("missing/m.safetensors"), [TensorToWrite.FromFloat32("w", [1], [3f])]));
    }

    [Fact]
    public void WrittenF32DataIsLittleEndian()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [TensorToWrite.FromFloat32("w", [1], [1f])]);
        var bytes = File.ReadAllBytes(dir.File("m.safetensors"));
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal([0x00, 0x00, 0x80, 0x3F], bytes[(8 + (int)n)..]);
    }
}
