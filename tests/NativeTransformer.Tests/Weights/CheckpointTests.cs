using System.Text;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>Checkpoint folders: single file, sharded sets (merge and every index failure), missing or foreign weights.</summary>
public sealed class CheckpointTests
{
    private static void WriteIndex(string folder, string weightMapJson, string metadataJson = "{\"total_size\":28}") =>
        File.WriteAllText(Path.Combine(folder, Checkpoint.IndexFileName), $"{{\"metadata\":{metadataJson},\"weight_map\":{weightMapJson}}}");

    /// <summary>Two shards: shard 1 holds a.weight, a.bias; shard 2 holds b.weight, ids.</summary>
    private static void WriteTwoShards(string folder)
    {
        SafetensorsWriter.Write(Path.Combine(folder, "model-00001-of-00002.safetensors"),
            [TensorToWrite.FromFloat32("a.weight", [2], [1f, 2f]), TensorToWrite.FromFloat32("a.bias", [1], [0.5f])],
            new Dictionary<string, string> { ["format"] = "pt" });
        SafetensorsWriter.Write(Path.Combine(folder, "model-00002-of-00002.safetensors"),
            [TensorToWrite.FromBFloat16("b.weight", [2], [3f, -4f]), TensorToWrite.FromInt64("ids", [1], [9])]);
    }

    private const string TwoShardMap =
        "{\"a.bias\":\"model-00001-of-00002.safetensors\",\"a.weight\":\"model-00001-of-00002.safetensors\"," +
        "\"b.weight\":\"model-00002-of-00002.safetensors\",\"ids\":\"model-00002-of-00002.safetensors\"}";

    [Fact]
    public void SingleFileCheckpointOpensModelSafetensors()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("model.safetensors"), [TensorToWrite.FromFloat32("w", [1], [5f])]);
        using var source = Checkpoint.Open(dir.Path);
        Assert.IsType<SafetensorsFile>(source);
        Assert.Equal([5f], source.GetFloat32("w").ToArray());
    }

    [Fact]
    public void ShardedCheckpointLoadsAndMerges()
    {
        using var dir = new TempDir();
        WriteTwoShards(dir.Path);
        WriteIndex(dir.Path, TwoShardMap);

        using var source = Checkpoint.Open(dir.Path);
        Assert.Equal(["a.bias", "a.weight", "ids", "b.weight"], source.Tensors.Select(t => t.Name)); // shard order, then file order
        Assert.Equal([1f, 2f], source.GetFloat32("a.weight").ToArray());
        Assert.Equal([0.5f], source.GetFloat32("a.bias").ToArray());
        Assert.Equal([3f, -4f], source.GetFloat32("b.weight").ToArray());
        Assert.Equal([9L], source.GetInt64("ids"));
        Assert.Equal(8, source.GetBytes("a.weight").Length);
        Assert.True(source.TryGetInfo("b.weight", out var info) && info.DType == DType.BF16);
        Assert.False(source.TryGetInfo("nope", out _));
        Assert.Equal("nope", Assert.Throws<WeightException>(() => source.GetFloat32("nope")).Key);
        Assert.Equal("28", Assert.IsType<ShardedTensorSource>(source).Metadata["total_size"]);
    }

    [Fact]
    public void SingleFileWinsOverAnIndex()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("model.safetensors"), [TensorToWrite.FromFloat32("w", [1], [5f])]);
        WriteIndex(dir.Path, "{\"w\":\"../evil.safetensors\"}");
        using var source = Checkpoint.Open(dir.Path);
        Assert.Single(source.Tensors);
    }

    [Fact]
    public void IndexedTensorAbsentFromItsShardIsInvalidIndex()
    {
        using var dir = new TempDir();
        WriteTwoShards(dir.Path);
        WriteIndex(dir.Path, TwoShardMap.Replace("}", ",\"c.weight\":\"model-00002-of-00002.safetensors\"}"));
        var e = Assert.Throws<SafetensorsException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal(SafetensorsError.InvalidIndex, e.Error);
        Assert.Equal("c.weight", e.TensorName);
        Assert.Contains(Checkpoint.IndexFileName, e.Message);
    }

    [Fact]
    public void IndexNamingTheWrongShardIsInvalidIndex()
    {
        using var dir = new TempDir();
        WriteTwoShards(dir.Path);
        WriteIndex(dir.Path, TwoShardMap.Replace("\"ids\":\"model-00002", "\"ids\":\"model-00001"));
        var e = Assert.Throws<SafetensorsException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal(SafetensorsError.InvalidIndex, e.Error);
        Assert.Equal("ids", e.TensorName);
    }

    [Fact]
    public void TensorStoredInTwoShardsIsInvalidIndex()
    {
        using var dir = new TempDir();
        WriteTwoShards(dir.Path);
        SafetensorsWriter.Write(dir.File("model-00002-of-00002.safetensors"),
            [TensorToWrite.FromFloat32("a.weight", [2], [7f, 8f]), TensorToWrite.FromInt64("ids", [1], [9])]);
        WriteIndex(dir.Path, "{\"a.weight\":\"model-00001-of-00002.safetensors\",\"ids\":\"model-00002-of-00002.safetensors\"}");
        var e = Assert.Throws<SafetensorsException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal(SafetensorsError.InvalidIndex, e.Error);
        Assert.Equal("a.weight", e.TensorName);
        Assert.Contains("two shards", e.Message);
    }

    [Fact]
    public void TraversalIsRefusedEvenWhenTheTargetExists()
    {
        using var dir = new TempDir();
        string model = Directory.CreateDirectory(dir.File("model")).FullName;
        SafetensorsWriter.Write(dir.File("x.safetensors"), [TensorToWrite.FromFloat32("w", [1], [1f])]);
        foreach (string shard in new[] { "../x.safetensors", dir.File("x.safetensors"), "..", "./x.safetensors", "" })
        {
            WriteIndex(model, $"{{\"w\":\"{shard.Replace("\\", "\\\\")}\"}}");
            var e = Assert.Throws<SafetensorsException>(() => Checkpoint.Open(model));
            Assert.Equal(SafetensorsError.InvalidIndex, e.Error);
            Assert.Equal("w", e.TensorName);
        }
    }

    [Fact]
    public void CorruptShardReportsTheShardPath()
    {
        using var dir = new TempDir();
        WriteTwoShards(dir.Path);
        File.WriteAllBytes(dir.File("model-00002-of-00002.safetensors"), [1, 2, 3]);
        WriteIndex(dir.Path, TwoShardMap);
        var e = Assert.Throws<SafetensorsException>(() => Checkpoint.Open(dir.Path));
        Assert.Equal(SafetensorsError.TooSmall, e.Error);
        Assert.Equal(dir.File("model-00002-of-00002.safetensors"), e.FilePath);
    }

    [Fact]
    public void EmptyWeightMapAndNonUtf8IndexAreInvalid()
    {
        using var dir = new TempDir();
        WriteIndex(dir.Path, "{}");
        Assert.Equal(SafetensorsError.InvalidIndex, Assert.Throws<SafetensorsException>(() => Checkpoint.Open(dir.Path)).Error);
        File.WriteAllBytes(dir.File(Checkpoint.IndexFileName), [(byte)'{', 0xC3, (byte)'}']);
        Assert.Equal(SafetensorsError.InvalidIndex, Assert.Throws<SafetensorsException>(() => Checkpoint.Open(dir.Path)).Error);
        File.WriteAllText(dir.File(Checkpoint.IndexFileName), "{\"weight_map\":" + new string('[', 100) + new string(']', 100) + "}");
        Assert.Equal(SafetensorsError.InvalidIndex, Assert.Throws<SafetensorsException>(() => Checkpoint.Open(dir.Path)).Error);
    }

    [Fact]
    public void FolderWithoutWeightsListsWhatWasLookedFor()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), "{}");
        var e = Assert.Throws<NativeTransformerException>(() => Checkpoint.Open(dir.Path));
        Assert.IsNotType<SafetensorsException>(e);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("model.safetensors.index.json", e.Message);
        Assert.Contains(dir.Path, e.Message);
    }

    [Fact]
    public void PyTorchOnlyFolderSaysOnlySafetensorsIsSupported()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("pytorch_model.bin"), Encoding.ASCII.GetBytes("PK"));
        var e = Assert.Throws<NativeTransformerException>(() => Checkpoint.Open(dir.Path));
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("only the safetensors format is supported", e.Message);
    }

    [Fact]
    public void MissingFolderIsAClearError()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<NativeTransformerException>(() => Checkpoint.Open(dir.File("absent")));
        Assert.Contains("does not exist", e.Message);
    }
}
