using NativeTransformer.Compression;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Compression;

/// <summary>DistilBERT and ALBERT names, the masked-LM head's tied decoder.</summary>
public sealed class QuantizeFamilyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nt-quantize-family-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Theory]
    [InlineData("distilbert-mini-sst2", 18)] // 3 layers × 6
    [InlineData("albert-mini-sst2", 6)]      // one shared group × 6; the embedding projection stays fp32
    public void Int8FolderEqualsLoadTimeInt8BitForBit(string model, int matrices)
    {
        string src = TestPaths.Model(model), dst = Path.Combine(_root, model);
        var report = QuantizeFolder.Run(src, dst, new QuantizeOptions(LinearPrecision.Int8, EmbeddingPrecision.Fp32));
        Assert.Equal(matrices, report.Int8Matrices);
        using (var file = SafetensorsFile.Open(Path.Combine(dst, "model.safetensors")))
        {
            Assert.Equal(matrices, file.Tensors.Count(t => t.DType == DType.I8));
            Assert.All(file.Tensors.Where(t => t.Name.Contains("embedding_hidden_mapping_in")), t => Assert.Equal(DType.F32, t.DType));
        }
        using var folder = TransformerModel.Load(dst, new LoadOptions { Threads = 1 });
        using var loadTime = TransformerModel.Load(src, new LoadOptions { Threads = 1, Int8 = true });
        QuantizeTests.AssertSameEncode(folder, loadTime);
    }

    [Fact]
    public void MaskedLmCheckpointKeepsTiedWordEmbeddingsFp32ByDefault()
    {
        string src = TestPaths.Model("bert-tiny-mlm"), dst = Path.Combine(_root, "mlm");
        var report = QuantizeFolder.Run(src, dst, new QuantizeOptions());
        Assert.Equal(EmbeddingPrecision.Fp32, report.Embeddings);
        using (var file = SafetensorsFile.Open(Path.Combine(dst, "model.safetensors")))
            Assert.Equal(DType.F32, file.GetInfo("bert.embeddings.word_embeddings.weight").DType);
        using var folder = TransformerModel.Load(dst, new LoadOptions { Threads = 1 });
        using var loadTime = TransformerModel.Load(src, new LoadOptions { Threads = 1, Int8 = true });
        var encoding = folder.Tokenize([new TextInput("the capital of france is [MASK].")])[0];
        Assert.Equal(loadTime.MaskedLmLogits(encoding, [6]), folder.MaskedLmLogits(encoding, [6]));
    }

    [Fact]
    public void MaskedLmWithExplicitInt8EmbeddingsDequantizesTheDecoderOnce()
    {
        const string word = "bert.embeddings.word_embeddings.weight";
        string src = TestPaths.Model("bert-tiny-mlm"), dst = Path.Combine(_root, "mlm-e8");
        var report = QuantizeFolder.Run(src, dst, new QuantizeOptions(LinearPrecision.Int8, EmbeddingPrecision.Int8));
        Assert.Equal(EmbeddingPrecision.Int8, report.Embeddings);
        using var dequantized = QuantizeTests.Copy(dst);
        QuantizeTests.DequantizeWordEmbeddings(dequantized.Path, word);
        using var a = TransformerModel.Load(dst, new LoadOptions { Threads = 1 });
        using var b = TransformerModel.Load(dequantized.Path, new LoadOptions { Threads = 1 });
        var encoding = a.Tokenize([new TextInput("the capital of france is [MASK].")])[0];
        Assert.Equal(b.MaskedLmLogits(encoding, [6]), a.MaskedLmLogits(encoding, [6]));
    }
}
