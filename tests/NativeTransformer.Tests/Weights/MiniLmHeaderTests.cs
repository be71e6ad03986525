using System.Buffers.Binary;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>
/// The exact header of a real all-MiniLM-L6-v2 model.safetensors (../shared/models/all-MiniLM-L6-v2/reference):
/// rebuilt into a file with a zero-filled (sparse) data section and opened with the strict reader.
/// </summary>
public sealed class MiniLmHeaderTests
{
    private static readonly string Reference = Path.Combine(TestPaths.Model("all-MiniLM-L6-v2"), "reference");
    private static byte[] First8 => File.ReadAllBytes(Path.Combine(Reference, "model.safetensors.first8.bin"));
    private static byte[] Header => File.ReadAllBytes(Path.Combine(Reference, "model.safetensors.header.json"));

    /// <summary>Writes first8 + header + a sparse zero data section of <paramref name="dataSize"/> bytes.</summary>
    private static string BuildFile(TempDir dir, long dataSize)
    {
        string path = dir.File("model.safetensors");
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        stream.Write(First8);
        stream.Write(Header);
        stream.SetLength(stream.Length + dataSize);
        return path;
    }

    [Fact]
    public void RealHeaderIsAccepted()
    {
        Assert.Equal((ulong)Header.Length, BinaryPrimitives.ReadUInt64LittleEndian(First8));
        const long dataSize = 90_856_960; // last data_offsets end in the header (SOURCE.txt: 8 + 11408 + 90856960 bytes)
        using var dir = new TempDir();
        using var file = SafetensorsFile.Open(BuildFile(dir, dataSize));

        Assert.Equal(104, file.Tensors.Count);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(11408, file.HeaderLength);
        Assert.Equal(22_713_728, file.Tensors.Sum(t => t.ElementCount));
        Assert.Equal(dataSize, file.Tensors.Sum(t => t.ByteLength));
        Assert.Equal(103, file.Tensors.Count(t => t.DType == DType.F32));

        var ids = file.Tensors[0];
        Assert.Equal("embeddings.position_ids", ids.Name);
        Assert.Equal(DType.I64, ids.DType);
        Assert.Equal([1L, 512L], ids.Shape);
        Assert.Equal(8 + 11408, ids.FileOffset);
        Assert.Equal(new long[512], file.GetInt64("embeddings.position_ids"));

        var words = file.GetInfo("embeddings.word_embeddings.weight");
        Assert.Equal([30522L, 384L], words.Shape);
        Assert.Equal(30522 * 384, file.GetFloat32("embeddings.word_embeddings.weight").Length);
        Assert.Equal([384L, 384L], file.GetInfo("encoder.layer.5.attention.self.query.weight").Shape);
        Assert.Equal([1536L, 384L], file.GetInfo("encoder.layer.0.intermediate.dense.weight").Shape);
        Assert.True(file.TryGetInfo("pooler.dense.bias", out _));
        Assert.False(file.TryGetInfo("bert.embeddings.word_embeddings.weight", out _));
    }

    [Fact]
    public void RealHeaderWithOneByteMissingIsRefused()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(BuildFile(dir, 90_856_959)));
        Assert.Equal(SafetensorsError.OffsetsOutOfBounds, e.Error);
    }

    [Fact]
    public void OurLayoutReproducesTheRealHeaderByteForByte()
    {
        using var dir = new TempDir();
        using var file = SafetensorsFile.Open(BuildFile(dir, 90_856_960));
        var placed = SafetensorsLayout.Place(file.Tensors.Select(t => (t.Name, t.DType, t.Shape, t.ByteLength)).ToList());
        var header = SafetensorsLayout.BuildHeader(placed, file.Metadata);
        Assert.Equal(Header, header);
    }
}
