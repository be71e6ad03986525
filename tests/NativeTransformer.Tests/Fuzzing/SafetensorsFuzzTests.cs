using System.Text;
using NativeTransformer.Tests.Weights;
using NativeTransformer.Weights;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Fuzzes <see cref="SafetensorsFile"/>: mutations of valid files (the dtype fixture, a tiny BERT checkpoint, a header
/// with metadata) are opened and every tensor is read. The only allowed failures are <see cref="SafetensorsException"/>
/// (naming the file) at open and <see cref="WeightException"/> at access; an opened file must describe tensors that
/// lie inside it.
/// </summary>
public sealed class SafetensorsFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Dictionary =
    [
        .. ByteMutator.JsonTokens, "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"", "\"BF16\"",
        "\"F64\"", "\"I64\"", "\"I32\"", "\"I8\"", "\"U8\"", "\"BOOL\"", "\"U64\"", "\"F8_E4M3\"", "\"format\"", "\"pt\"",
        "[0,0]", "[]", "[1]", "[0]", "[-1]", "[2,3]", "\"embeddings.word_embeddings.weight\"",
    ];

    public static byte[][] Seeds()
    {
        using var dir = new TempDir();
        string tiny = dir.File("tiny.safetensors"), meta = dir.File("meta.safetensors");
        var tensors = new List<TensorToWrite>
        {
            TensorToWrite.FromFloat32("embeddings.word_embeddings.weight", [6, 4], Enumerable.Range(0, 24).Select(i => i * 0.25f).ToArray()),
            TensorToWrite.FromFloat16("embeddings.LayerNorm.weight", [4], [(Half)1, (Half)1, (Half)1, (Half)1]),
            TensorToWrite.FromBFloat16("encoder.layer.0.attention.self.query.weight", [4, 4], new float[16]),
            TensorToWrite.FromFloat32("encoder.layer.0.attention.self.query.bias", [4], [0.5f, -1, 2, 0]),
            TensorToWrite.FromInt64("embeddings.position_ids", [1, 3], [0, 1, 2]),
            TensorToWrite.FromFloat32("empty", [0, 4], []),
            TensorToWrite.FromFloat32("scalar", [], [3f]),
        };
        SafetensorsWriter.Write(tiny, tensors);
        SafetensorsWriter.Write(meta, tensors.Take(2), new Dictionary<string, string> { ["format"] = "pt", ["nt.note"] = "héllo \U0001F600", ["empty"] = "" });
        return
        [
            File.ReadAllBytes(Path.Combine(TestPaths.Reference("safetensors_dtypes"), "dtypes.safetensors")),
            File.ReadAllBytes(tiny),
            File.ReadAllBytes(meta),
        ];
    }

    [Fact]
    public void FuzzSafetensorsOpenAndRead()
    {
        var seeds = Seeds();
        var mutator = new ByteMutator(Dictionary, seeds, focusLength: 900); // the headers are under 900 bytes
        using var dir = new TempDir();
        string path = dir.File("input.safetensors");
        int opened = 0;

        var result = FuzzRunner.Run("safetensors", FuzzBudget.For(ciInputs: 600, ciSeed: 20240607),
            r => mutator.Mutate(seeds[r.Next(seeds.Length)], r),
            bytes =>
            {
                File.WriteAllBytes(path, bytes);
                if (ReadAll(path, bytes.Length)) opened++;
            },
            bytes => bytes, ".safetensors", output);

        Assert.InRange(opened, 1, result.Inputs - 1); // both verdicts are exercised: the mutations are neither all fatal nor all harmless
    }

    /// <summary>Opens the file and reads every tensor; true when it opened. Asserts the library's contract on the way.</summary>
    internal static bool ReadAll(string path, long fileLength)
    {
        SafetensorsFile file;
        try { file = SafetensorsFile.Open(path); }
        catch (SafetensorsException e)
        {
            Assert.Contains(Path.GetFullPath(path), e.Message); // errors name the file
            throw;
        }
        using (file)
        {
            foreach (var t in file.Tensors)
            {
                Assert.InRange(t.FileOffset, 8 + file.HeaderLength, fileLength);
                Assert.InRange(t.FileOffset + t.ByteLength, t.FileOffset, fileLength);
                Assert.Same(t, file.GetInfo(t.Name));
                try
                {
                    Assert.Equal(t.ByteLength, file.GetBytes(t.Name).Length);
                    if (t.DType.IsFloatingPoint()) Assert.Equal(t.ElementCount, file.GetFloat32(t.Name).Length);
                    else Assert.Equal(t.ElementCount, file.GetInt64(t.Name).Length);
                }
                catch (WeightException e) { Assert.Equal(t.Name, e.Key); }
            }
            foreach (var (k, v) in file.Metadata) { Assert.NotNull(k); Assert.NotNull(v); }
        }
        return true;
    }
}
