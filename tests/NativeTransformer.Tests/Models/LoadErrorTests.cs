using NativeTransformer.Models;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Models;

/// <summary>Bad model folders fail at load (and at inspect) with a typed error that names what is wrong.</summary>
public class LoadErrorTests
{
    private const string Query0 = "bert.encoder.layer.0.attention.self.query.weight";

    [Fact]
    public void MissingTensorNamesItsFullKey()
    {
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2");
        CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name == Query0 ? null : CheckpointEditor.Keep(info, data));
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
        Assert.Equal(Query0, e.Key);
        Assert.Contains("missing", e.Message);
        Assert.Equal(Query0, Assert.Throws<WeightException>(() => TransformerModel.Inspect(folder.Path)).Key);
    }

    [Fact]
    public void MisshapenTensorNamesItsKeyAndBothShapes()
    {
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2");
        CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name == Query0
            ? new TensorToWrite(info.Name, DType.F32, [64, 256], data) : CheckpointEditor.Keep(info, data));
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
        Assert.Equal(Query0, e.Key);
        Assert.Contains("[64, 256]", e.Message);
        Assert.Contains("[128, 128]", e.Message);
    }

    [Fact]
    public void IntegerDTypeForAWeightIsRejected()
    {
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2");
        CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name == Query0
            ? new TensorToWrite(info.Name, DType.I32, info.Shape, data) : CheckpointEditor.Keep(info, data));
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
        Assert.Equal(Query0, e.Key);
        Assert.Contains("I32", e.Message);
    }

    [Fact]
    public void HalfPrecisionCheckpointsLoadWidened()
    {
        // F16 and BF16 weights are widened to F32 at load; the result stays close to the F32 model.
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2");
        CheckpointEditor.Rewrite(folder.Path, (info, data) =>
        {
            if (info.DType != DType.F32) return CheckpointEditor.Keep(info, data);
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data.Span).ToArray();
            return info.Name.Contains("layer.0") ? TensorToWrite.FromBFloat16(info.Name, info.Shape, floats)
                : TensorToWrite.FromFloat16(info.Name, info.Shape, floats.Select(f => (Half)f).ToArray());
        });
        using var half = TransformerModel.Load(folder.Path);
        using var full = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"));
        string text = "a gorgeous , witty , seductive movie .";
        var a = half.Classify([text])[0]; var b = full.Classify([text])[0];
        Assert.Equal(b.LabelId, a.LabelId);
        Assert.True(Math.Abs(a.Logits[0] - b.Logits[0]) < 0.1);
    }

    [Fact]
    public void UnknownModelTypeListsSupportedTypes()
    {
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2", withWeights: false);
        folder.Write("config.json", File.ReadAllText(Path.Combine(TestPaths.Model("bert-tiny-sst2"), "config.json")).Replace("\"bert\"", "\"gpt2\""));
        var e = Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path));
        Assert.Contains("gpt2", e.Message);
        Assert.Contains("bert, distilbert, albert", e.Message);
    }

    [Theory]
    [InlineData("{\"model_type\":\"bert\",\"hidden_act\":\"swish\",\"hidden_size\":8,\"num_hidden_layers\":1,\"num_attention_heads\":2,\"intermediate_size\":8,\"vocab_size\":10}", "swish")]
    [InlineData("{\"model_type\":\"bert\",\"hidden_size\":10,\"num_hidden_layers\":1,\"num_attention_heads\":3,\"intermediate_size\":8,\"vocab_size\":10}", "not divisible")]
    [InlineData("{\"model_type\":\"bert\",\"num_hidden_layers\":1,\"num_attention_heads\":2,\"intermediate_size\":8,\"vocab_size\":10}", "hidden_size")]
    [InlineData("{\"model_type\":\"bert\",\"hidden_size\":-8,\"num_hidden_layers\":1,\"num_attention_heads\":2,\"intermediate_size\":8,\"vocab_size\":10}", "positive")]
    [InlineData("{\"model_type\":\"bert\",\"hidden_size\":1000000000,\"num_hidden_layers\":1,\"num_attention_heads\":2,\"intermediate_size\":1000000000,\"vocab_size\":10}", "absurdly large")]
    [InlineData("{\"model_type\":\"bert\",\"position_embedding_type\":\"relative_key\",\"hidden_size\":8,\"num_hidden_layers\":1,\"num_attention_heads\":2,\"intermediate_size\":8,\"vocab_size\":10}", "relative_key")]
    [InlineData("{\"model_type\": \"bert\", \"hidden_size\": [1]}", "not valid JSON")]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{}", "model_type")]
    public void BadConfigsGiveAClearError(string json, string expected)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void DistilBertConfigNamesAreNormalised()
    {
        var c = ModelConfig.Load(Path.Combine(TestPaths.Model("distilbert-mini-sst2"), "config.json"));
        Assert.Equal((ModelFamily.DistilBert, 256, 3, 4, 1024, 0, 1e-12f), (c.Family, c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize, c.TypeVocabSize, c.LayerNormEps));
        var a = ModelConfig.Load(Path.Combine(TestPaths.Model("albert-mini-sst2"), "config.json"));
        Assert.Equal((ModelFamily.Albert, 128, 256, 1), (a.Family, a.EmbeddingSize, a.HiddenSize, a.NumHiddenGroups));
        Assert.Equal("positive", a.Id2Label[1]);
    }

    [Fact]
    public void EmptyVocabIsATokenizerError()
    {
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2", withWeights: false);
        folder.Write("vocab.txt", "");
        foreach (var f in new[] { "tokenizer.json" }) File.Delete(folder.FilePath(f));
        Assert.Throws<TokenizerException>(() => TransformerModel.Load(folder.Path));
    }

    [Fact]
    public void FolderWithoutWeightsLoadsNothingButInspects()
    {
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2", withWeights: false);
        var e = Assert.ThrowsAny<NativeTransformerException>(() => TransformerModel.Load(folder.Path));
        Assert.Contains("model.safetensors", e.Message);
        var summary = TransformerModel.Inspect(folder.Path);
        Assert.False(summary.HasWeights);
        Assert.Equal(2, summary.Layers);
    }

    [Fact]
    public void MissingFolderAndMissingConfig()
    {
        Assert.ThrowsAny<NativeTransformerException>(() => TransformerModel.Load("/nonexistent/model"));
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2", withWeights: false);
        File.Delete(folder.FilePath("config.json"));
        Assert.Contains("config.json", Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path)).Message);
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        var dir = TestPaths.Model("bert-tiny-sst2");
        Assert.Throws<InputException>(() => TransformerModel.Load(dir, new LoadOptions { MaxLength = 513 }));
        Assert.Throws<InputException>(() => TransformerModel.Load(dir, new LoadOptions { MaxLength = 2 }));
        Assert.Throws<InputException>(() => TransformerModel.Load(dir, new LoadOptions { BatchSize = 0 }));
        Assert.Throws<InputException>(() => TransformerModel.Load(dir, new LoadOptions { Threads = -1 }));
    }

    [Fact]
    public void MissingHeadsAreClearErrors()
    {
        using var mlm = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"));
        Assert.Contains("classification head", Assert.ThrowsAny<NativeTransformerException>(() => mlm.Classify(["x"])).Message);
        using var cls = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"));
        Assert.Contains("masked-LM", Assert.ThrowsAny<NativeTransformerException>(() => cls.FillMask("a [MASK] b")).Message);
        Assert.Throws<InputException>(() => mlm.FillMask("no mask here"));
    }

    [Fact]
    public void RealMiniLmLayoutLoads()
    {
        // The real all-MiniLM-L6-v2 header (bare BertModel names, I64 position_ids buffer) with zero-filled data.
        using var folder = TempModelFolder.CopyOf("all-MiniLM-L6-v2");
        string reference = Path.Combine(TestPaths.Model("all-MiniLM-L6-v2"), "reference");
        var first8 = File.ReadAllBytes(Path.Combine(reference, "model.safetensors.first8.bin"));
        var header = File.ReadAllBytes(Path.Combine(reference, "model.safetensors.header.json"));
        long dataBytes = 0;
        using (var doc = System.Text.Json.JsonDocument.Parse(header))
            foreach (var t in doc.RootElement.EnumerateObject())
                if (t.Name != "__metadata__") dataBytes = Math.Max(dataBytes, t.Value.GetProperty("data_offsets")[1].GetInt64());
        using (var f = File.Create(folder.FilePath("model.safetensors")))
        {
            f.Write(first8); f.Write(header);
            f.SetLength(8 + header.Length + dataBytes);   // sparse zeros
        }
        var summary = TransformerModel.Inspect(folder.Path);
        Assert.Equal((6, 384), (summary.Layers, summary.HiddenSize));
        Assert.Contains(summary.OutputHeads, h => h.StartsWith("sentence-pooling (mean, normalize)"));
        using var model = TransformerModel.Load(folder.Path);
        Assert.True(model.HasPoolingConfig && model.HasPooler && !model.HasClassifier);
        Assert.Equal(256, model.MaxLength);    // sentence_bert_config.json max_seq_length
        var e = model.Embed(["hello world"]);
        Assert.Equal(384, e[0].Length);
    }
}
