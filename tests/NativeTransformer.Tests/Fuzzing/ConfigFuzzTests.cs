using System.Text;
using NativeTransformer.Models;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Fuzzes the config.json parser (<see cref="ModelConfig.Parse"/>) with byte and structural mutations of the real
/// configs under shared/models and with generated configs. Only <see cref="ModelConfigException"/> may escape; a config
/// that parses must be internally consistent. The target stops at the parser: it never loads a model, so an accepted
/// absurd size cannot make this test allocate (refusing those is the parser's and the loader's job, tested elsewhere).
/// </summary>
public sealed class ConfigFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Keys =
    [
        "model_type", "architectures", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
        "hidden_act", "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "pad_token_id", "position_embedding_type",
        "id2label", "label2id", "pruned_heads", "embedding_size", "num_hidden_groups", "inner_group_num", "dim", "n_layers", "n_heads",
        "hidden_dim", "activation", "sinusoidal_pos_embds", "attention_window", "0", "1", "-1", "00",
        // T5
        "d_model", "d_kv", "d_ff", "num_layers", "num_heads", "n_positions", "relative_attention_num_buckets",
        "relative_attention_max_distance", "layer_norm_epsilon", "feed_forward_proj",
    ];
    private static readonly string[] Strings =
        ["bert", "distilbert", "albert", "roberta", "xlm-roberta", "camembert", "t5", "longformer", "gated-gelu", "gated-relu", "gated-silu", "swiglu", "gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "absolute", "relative_key", "NEGATIVE", "POSITIVE", ""];

    private static readonly JsonFuzz Json = new(Keys, Strings);
    private static readonly ByteMutator Bytes = new([.. ByteMutator.JsonTokens, .. Keys.Select(k => $"\"{k}\""), .. Strings.Select(s => $"\"{s}\"")]);

    public static string[] RealConfigs() =>
        Directory.GetDirectories(Path.Combine(TestPaths.Shared, "models")).Select(d => Path.Combine(d, "config.json"))
            .Where(File.Exists).Select(File.ReadAllText).ToArray();

    /// <summary>model_type as the file spells it, read without our parser.</summary>
    private static string? ModelTypeOf(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("model_type", out var t) ? t.GetString() : null;
    }

    [Fact]
    public void FuzzConfigParser()
    {
        var seeds = RealConfigs();
        // The real configs of supported families parse (longformer's attention_window list and t5's keys seed the
        // mutations); the others are refused with a ModelConfigException naming their model_type. Both kinds seed the mutations.
        var supported = seeds.Where(s => ModelConfig.SupportedModelTypes.Contains(ModelTypeOf(s))).ToArray();
        Assert.NotEmpty(supported);
        Assert.Contains(supported, s => ModelTypeOf(s) is "roberta" or "xlm-roberta");
        Assert.Contains(supported, s => ModelTypeOf(s) is "longformer");
        foreach (var s in supported) Check(ModelConfig.Parse(s));
        foreach (var s in seeds.Except(supported))
        {
            var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(s));
            Assert.Contains($"unsupported model_type \"{ModelTypeOf(s)}\"", e.Message);
        }
        int parsed = 0;

        var result = FuzzRunner.Run("config", FuzzBudget.For(ciInputs: 3000, ciSeed: 4242),
            r => (r.Next(3)) switch
            {
                0 => Encoding.UTF8.GetBytes(Json.Mutate(seeds[r.Next(seeds.Length)], r)),
                1 => Bytes.Mutate(Encoding.UTF8.GetBytes(seeds[r.Next(seeds.Length)]), r),
                _ => Encoding.UTF8.GetBytes(GenerateConfig(r)),
            },
            bytes =>
            {
                Check(ModelConfig.Parse(Encoding.UTF8.GetString(bytes), "fuzz/config.json"));
                parsed++;
            },
            bytes => bytes, ".json", output);

        Assert.InRange(parsed, 1, result.Inputs - 1);
    }

    /// <summary>What every accepted config guarantees to the loader.</summary>
    private static void Check(ModelConfig c)
    {
        Assert.True(c.VocabSize > 0 && c.HiddenSize > 0 && c.NumLayers > 0 && c.NumHeads > 0 && c.IntermediateSize > 0 && c.MaxPositionEmbeddings > 0);
        Assert.True(c.EmbeddingSize > 0 && c.TypeVocabSize >= 0 && c.NumHiddenGroups >= 1 && c.NumHiddenGroups <= c.NumLayers);
        if (c.T5 is { } t5)
        {
            // T5: heads · d_kv is its own width (no divisibility); the bucketing needs exact buckets below max_distance.
            Assert.Equal((long)c.NumHeads * t5.HeadSize, c.AttentionInnerSize);
            Assert.InRange(c.AttentionInnerSize, 1, 1 << 20);
            Assert.InRange(t5.RelativeAttentionNumBuckets, 4, T5Options.MaxBuckets);
            Assert.InRange(t5.RelativeAttentionMaxDistance, t5.RelativeAttentionNumBuckets / 4 + 1, T5Options.MaxDistanceLimit);
            Assert.Equal(NormalizationType.RmsNorm, c.NormalizationType);
        }
        else Assert.Equal(0, c.HiddenSize % c.NumHeads);
        Assert.True(c.HeadSize > 0);
        Assert.True(float.IsFinite(c.LayerNormEps) && c.LayerNormEps > 0, $"layer_norm_eps {c.LayerNormEps}");
        Assert.True((long)c.VocabSize * c.EmbeddingSize <= int.MaxValue && (long)c.HiddenSize * c.IntermediateSize <= int.MaxValue);
        foreach (var (layer, removed) in c.PrunedHeads)
        {
            Assert.InRange(layer, 0, c.WeightedLayers - 1);
            Assert.All(removed, h => Assert.InRange(h, 0, c.NumHeads - 1));
            Assert.InRange(c.HeadsInLayer(layer), 1, c.NumHeads);
        }
        Assert.All(c.Id2Label.Keys, k => Assert.True(k >= 0));
        Assert.Contains(c.ModelType, ModelConfig.SupportedModelTypes);
        Assert.InRange(c.MaxSequenceLength, 1, c.MaxPositionEmbeddings);
        if (c.PositionsFromPadding) Assert.InRange(c.PadTokenId, 0, c.VocabSize - 1); // the last position, pad + MaxSequenceLength, is a table row
        if (c.Family is not (ModelFamily.DistilBert or ModelFamily.T5)) Assert.True(c.TypeVocabSize >= 1);
        Assert.Equal(c.Family == ModelFamily.Longformer, c.Longformer is not null);
        if (c.Longformer is { } lf)
        {
            Assert.Equal(c.NumLayers, lf.AttentionWindow.Count);
            Assert.All(lf.AttentionWindow, w => Assert.True(w > 0 && w % 2 == 0 && w <= LongformerOptions.MaxWindow, $"window {w}"));
        }
    }

    /// <summary>A config built from the grammar of config.json: known keys with plausible, boundary or wrong-typed values.</summary>
    public static string GenerateConfig(Random r)
    {
        int[] sizes = [0, -1, 1, 2, 3, 4, 8, 12, 16, 64, 128, 256, 384, 512, 768, 1024, 3072, 30522, 65536, 1 << 20, int.MaxValue];
        var sb = new StringBuilder("{");
        bool first = true;
        void Key(string k) { if (!first) sb.Append(','); first = false; JsonFuzz.WriteString(sb, k); sb.Append(':'); }
        Key("model_type"); JsonFuzz.WriteString(sb, r.Next(8) == 0 ? Strings[r.Next(Strings.Length)] : Strings[r.Next(7)]);
        foreach (var k in Keys.Skip(1))
        {
            if (r.Next(3) == 0) continue;
            Key(k);
            switch (r.Next(12))
            {
                case 0: sb.Append(Json.RandomValue(r, 2)); break; // anything, often the wrong type
                case 1: sb.Append(sizes[r.Next(sizes.Length)]); break;
                case 2 when k is "hidden_act" or "activation" or "position_embedding_type" or "feed_forward_proj": JsonFuzz.WriteString(sb, Strings[r.Next(Strings.Length)]); break;
                case 3 when k is "layer_norm_eps" or "layer_norm_epsilon": sb.Append(r.Next(4) switch { 0 => "1e-12", 1 => "0", 2 => "-1e-5", _ => "1e400" }); break;
                case 4 or 5 when k == "pruned_heads":
                    sb.Append('{');
                    for (int i = 0, n = r.Next(4); i < n; i++)
                        sb.Append(i > 0 ? "," : "").Append($"\"{r.Next(-1, 5)}\":[{string.Join(",", Enumerable.Range(0, r.Next(5)).Select(_ => r.Next(-1, 5)))}]");
                    sb.Append('}');
                    break;
                case 6 when k == "id2label": sb.Append($"{{\"{r.Next(-2, 3)}\":\"A\",\"1\":\"B\"}}"); break;
                default: sb.Append(sizes[r.Next(2, 12)]); break;
            }
        }
        return sb.Append('}').ToString();
    }
}
