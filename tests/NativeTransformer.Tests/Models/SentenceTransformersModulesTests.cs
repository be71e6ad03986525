using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// sentence-transformers Dense modules (Pooling → Dense → Normalize) and prompts (config_sentence_transformers.json) on a
/// copy of bert-tiny-mlm, against a computation done here in float64 from the model's last hidden state.
/// </summary>
public class SentenceTransformersModulesTests
{
    private static readonly TextInput[] Texts = ["a gorgeous, witty movie", "the plot is thin", "", "what is the capital of france?"];

    private const string Modules = """
        [{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
         {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
         {"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"},
         {"idx":3,"name":"3","path":"3_Dense","type":"sentence_transformers.models.Dense"},
         {"idx":4,"name":"4","path":"4_Normalize","type":"sentence_transformers.models.Normalize"}]
        """;

    private static float[] Random(Random rng, int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();

    /// <summary>Mean pooling → Dense 128→48 tanh (bias) → Dense 48→24 Identity (no bias) → Normalize.</summary>
    private static (TempModelFolder Folder, float[] W1, float[] B1, float[] W2) DenseFolder()
    {
        var folder = TempModelFolder.CopyOf("bert-tiny-mlm");
        folder.WriteSentenceTransformers(PoolingMode.Mean, normalize: true);
        folder.Write("modules.json", Modules);
        var rng = new Random(7);
        float[] w1 = Random(rng, 48 * 128, 0.3f), b1 = Random(rng, 48, 0.5f), w2 = Random(rng, 24 * 48, 0.4f);
        folder.Write("2_Dense/config.json", """{"in_features": 128, "out_features": 48, "bias": true, "activation_function": "torch.nn.modules.activation.Tanh"}""");
        SafetensorsWriter.Write(folder.FilePath("2_Dense/model.safetensors"),
            [TensorToWrite.FromFloat32("linear.weight", [48, 128], w1), TensorToWrite.FromFloat32("linear.bias", [48], b1)]);
        folder.Write("3_Dense/config.json", """{"in_features": 48, "out_features": 24, "bias": false, "activation_function": "torch.nn.modules.linear.Identity"}""");
        SafetensorsWriter.Write(folder.FilePath("3_Dense/model.safetensors"), [TensorToWrite.FromFloat32("linear.weight", [24, 48], w2)]);
        return (folder, w1, b1, w2);
    }

    [Fact]
    public void DenseModulesRunBetweenPoolingAndNormalize()
    {
        var (folder, w1, b1, w2) = DenseFolder();
        using var _ = folder;
        using var model = TransformerModel.Load(folder.Path, new LoadOptions { Threads = 1 });
        Assert.Equal(24, model.EmbeddingSize);
        var embeddings = model.Embed(Texts);
        var encoded = model.Encode(Texts);
        Assert.Equal(Texts.Length * 24, encoded.Embeddings!.Length);

        int h = 128, seq = encoded.Batch.SeqLen;
        var last = encoded.HiddenStates[^1];
        for (int b = 0; b < Texts.Length; b++)
        {
            int valid = encoded.Batch.Lengths[b];
            var mean = new double[h];
            for (int t = 0; t < valid; t++) for (int i = 0; i < h; i++) mean[i] += last[(b * seq + t) * h + i] / (double)valid;
            var y1 = new double[48];
            for (int o = 0; o < 48; o++) { double s = b1[o]; for (int i = 0; i < h; i++) s += w1[o * h + i] * mean[i]; y1[o] = Math.Tanh(s); }
            var y2 = new double[24];
            for (int o = 0; o < 24; o++) for (int i = 0; i < 48; i++) y2[o] += w2[o * 48 + i] * y1[i];
            double norm = Math.Sqrt(y2.Sum(v => v * v));
            var expected = y2.Select(v => (float)(v / norm)).ToArray();
            Assert.True(Diff.MaxAbs(expected, embeddings[b]) < 1e-5f, $"row {b}: Embed");
            Assert.True(Diff.MaxAbs(expected, encoded.Embeddings.AsSpan(b * 24, 24)) < 1e-5f, $"row {b}: Encode");
        }
        Assert.Contains("sentence-pooling (mean, dense 128->48, dense 48->24, normalize)", TransformerModel.Inspect(folder.Path).OutputHeads);
    }

    [Fact]
    public void BadDenseModulesAreClearErrors()
    {
        var (folder, _, _, _) = DenseFolder();
        using var __ = folder;
        // A module saved by older sentence-transformers: pytorch_model.bin only.
        File.Move(folder.FilePath("3_Dense/model.safetensors"), folder.FilePath("3_Dense/pytorch_model.bin"));
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("convert", e.Message);
        File.Delete(folder.FilePath("3_Dense/pytorch_model.bin"));
        SafetensorsWriter.Write(folder.FilePath("3_Dense/model.safetensors"), [TensorToWrite.FromFloat32("linear.weight", [24, 40], new float[24 * 40])]);
        Assert.Contains("expected [24, 48]", Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path)).Message);

        folder.Write("3_Dense/config.json", """{"in_features": 40, "out_features": 24, "bias": false, "activation_function": "torch.nn.modules.linear.Identity"}""");
        Assert.Contains("in_features is 40", Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path)).Message);
        folder.Write("3_Dense/config.json", """{"in_features": 48, "out_features": 24, "bias": false, "activation_function": "torch.nn.Softsign"}""");
        Assert.Contains("torch.nn.Softsign", Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path)).Message);
        folder.Write("3_Dense/config.json", """{"in_features": 48, "bias": false}""");
        Assert.Contains("out_features", Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path)).Message);
        folder.Write("modules.json", Modules.Replace("1_Pooling\",\"type\":\"sentence_transformers.models.Pooling", "4_Normalize\",\"type\":\"sentence_transformers.models.Normalize"));
        Assert.Contains("after Pooling", Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path)).Message);
    }

    [Fact]
    public void PromptsPrependTextAndTheDefaultApplies()
    {
        using var folder = TempModelFolder.CopyOf("bert-tiny-mlm");
        folder.WriteSentenceTransformers(PoolingMode.Mean, normalize: true);
        folder.Write("config_sentence_transformers.json", """{"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "passage"}""");
        TextInput[] texts = ["a gorgeous, witty movie", "the plot is thin"];
        TextInput[] With(string p) => texts.Select(t => new TextInput(p + t.Text)).ToArray();

        using var model = TransformerModel.Load(folder.Path, new LoadOptions { Threads = 1 });
        Assert.Equal("passage", model.Prompts.DefaultPromptName);
        var passage = model.Embed(With("passage: "), null, "");         // prefixed by hand, no prompt
        Assert.Equal(passage, model.Embed(texts));                       // default_prompt_name applies
        Assert.Equal(passage, model.Embed(texts.Select(t => t.Text).ToArray()));
        Assert.Equal(model.Embed(With("query: "), null, ""), model.Embed(texts, "query", null));
        var none = model.Embed(texts, null, "");                          // "" = no prompt, over the default
        Assert.NotEqual(passage[0], none[0]);
        Assert.Contains("passage, query", Assert.Throws<InputException>(() => model.Embed(texts, "doc", null)).Message);
        Assert.Throws<InputException>(() => model.Embed(texts, "query", "x"));

        // LoadOptions: a load-level prompt replaces the folder's default; a bad name fails the load.
        using (var q = TransformerModel.Load(folder.Path, new LoadOptions { Threads = 1, PromptName = "query" }))
            Assert.Equal(model.Embed(texts, "query", null), q.Embed(texts));
        using (var raw = TransformerModel.Load(folder.Path, new LoadOptions { Threads = 1, Prompt = "" }))
            Assert.Equal(none, raw.Embed(texts));
        Assert.Contains("passage, query", Assert.Throws<InputException>(() => TransformerModel.Load(folder.Path, new LoadOptions { PromptName = "doc" })).Message);

        // Bad config files name the file and key.
        folder.Write("config_sentence_transformers.json", """{"prompts": {"query": "q: "}, "default_prompt_name": "passage"}""");
        Assert.Contains("default_prompt_name 'passage'", Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path)).Message);
        folder.Write("config_sentence_transformers.json", """{"prompts": ["q: "]}""");
        Assert.Contains("'prompts'", Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path)).Message);
        folder.Write("config_sentence_transformers.json", """{"prompts": {"query": 3}}""");
        Assert.Contains("prompts.query", Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path)).Message);

        // include_prompt false (prompt tokens left out of mean pooling) is refused when a prompt is used.
        folder.Write("config_sentence_transformers.json", """{"prompts": {"query": "q: "}}""");
        folder.Write("1_Pooling/config.json", """{"pooling_mode_mean_tokens": true, "include_prompt": false}""");
        using var excluded = TransformerModel.Load(folder.Path, new LoadOptions { Threads = 1 });
        excluded.Embed(texts);
        Assert.Contains("include_prompt", Assert.Throws<InputException>(() => excluded.Embed(texts, "query", null)).Message);
    }
}
