using System.Globalization;
using NativeTransformer.Models;
using NativeTransformer.Training;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Training;

/// <summary>Tiny random models of each trainable family (fixed seeds), written as a Hugging Face folder and loaded through
/// the ordinary loader, with a matching <see cref="Float64EncoderOracle"/> and a padded batch.</summary>
internal static class TinyTrainingModels
{
    public const int Vocab = 24, Labels = 3;

    public static string ConfigJson(string family, int hidden, int layers) => family switch
    {
        "distilbert" => $$"""{"model_type":"distilbert","vocab_size":{{Vocab}},"dim":{{hidden}},"n_layers":{{layers}},"n_heads":2,"hidden_dim":{{2 * hidden}},"max_position_embeddings":16,"activation":"gelu","pad_token_id":0,"id2label":{"0":"a","1":"b","2":"c"} }""",
        "roberta" => $$"""{"model_type":"roberta","vocab_size":{{Vocab}},"hidden_size":{{hidden}},"num_hidden_layers":{{layers}},"num_attention_heads":2,"intermediate_size":{{2 * hidden}},"max_position_embeddings":20,"type_vocab_size":1,"hidden_act":"gelu","layer_norm_eps":1e-5,"pad_token_id":1,"id2label":{"0":"a","1":"b","2":"c"} }""",
        "albert" => $$"""{"model_type":"albert","vocab_size":{{Vocab}},"embedding_size":4,"hidden_size":{{hidden}},"num_hidden_layers":{{layers}},"num_hidden_groups":1,"inner_group_num":1,"num_attention_heads":2,"intermediate_size":{{2 * hidden}},"max_position_embeddings":16,"type_vocab_size":2,"hidden_act":"gelu","layer_norm_eps":1e-12,"pad_token_id":0,"id2label":{"0":"a","1":"b","2":"c"} }""",
        _ => $$"""{"model_type":"bert","vocab_size":{{Vocab}},"hidden_size":{{hidden}},"num_hidden_layers":{{layers}},"num_attention_heads":2,"intermediate_size":{{2 * hidden}},"max_position_embeddings":16,"type_vocab_size":2,"hidden_act":"gelu","layer_norm_eps":1e-12,"pad_token_id":0,"id2label":{"0":"a","1":"b","2":"c"} }""",
    };

    public static string Prefix(string family) => family + ".";

    /// <summary>Writes a …ForSequenceClassification folder with random weights (LayerNorm γ near 1) and loads it.</summary>
    public static BertTrainingModel Create(string family, int hidden, int layers, int seed)
    {
        var config = ModelConfig.Parse(ConfigJson(family, hidden, layers));
        var layout = CheckpointLayout.For(config.Family, Prefix(family));
        var rng = new Random(seed);
        var tensors = new List<TensorToWrite>();
        foreach (var (name, shape) in BertTrainingModel.ParameterShapes(config, layout, classifier: true, Labels))
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            bool gamma = name.EndsWith(".weight", StringComparison.Ordinal) && shape.Length == 1;
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float)((gamma ? 1 : 0) + (rng.NextDouble() * 2 - 1) * (gamma ? 0.2 : 0.4));
            tensors.Add(TensorToWrite.FromFloat32(name, shape, v));
        }
        string dir = Path.Combine(Path.GetTempPath(), $"ntr-tiny-{family}-{hidden}-{layers}-{seed}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), ConfigJson(family, hidden, layers));
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string>());
        try { return BertTrainingModel.Load(dir); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    public static Float64EncoderOracle Oracle(BertTrainingModel m) => new(m.Config.Family switch { ModelFamily.DistilBert => "distilbert", ModelFamily.Roberta => "roberta", ModelFamily.Albert => "albert", _ => "bert" }, m.Prefix, m.Config.NumLayers, m.Config.NumHeads,
        m.Config.LayerNormEps, m.Config.PadTokenId, m.Config.NumHiddenGroups);

    /// <summary>Two rows, the second padded (pad id = the family's pad_token_id), token types 1 on part of the first row where the family has them.</summary>
    public static TrainingBatch Batch(BertTrainingModel m, int seed = 5)
    {
        int s = 6, pad = m.Config.PadTokenId;
        var rng = new Random(seed);
        var ids = new int[2 * s]; var types = new int[2 * s]; var mask = new int[2 * s];
        for (int t = 0; t < ids.Length; t++)
        {
            bool real = t < s || t - s < 4;
            ids[t] = real ? rng.Next(2, Vocab) : pad;
            mask[t] = real ? 1 : 0;
            types[t] = m.Config.TypeVocabSize > 1 && t >= 3 && t < s ? 1 : 0;
        }
        return new TrainingBatch(2, s, ids, types, mask, [2, 0]);
    }

    public static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
