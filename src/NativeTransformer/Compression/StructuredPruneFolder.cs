using System.Globalization;
using System.Text.Json.Nodes;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.Compression;

/// <summary>Options of <see cref="StructuredPruneFolder.Run"/>: fractions in [0, 1) of the attention heads of every layer and of
/// the feed-forward neurons of every layer to remove.</summary>
public sealed record StructuredPruneOptions(double Heads, double Ffn)
{
    /// <summary>The kept neuron count is rounded to the nearest multiple of this (see <see cref="StructuredPruning.NeuronsToKeep"/>).
    /// 32 by default, the fp32 GEMM's panel width (<see cref="Kernels.Packed.PackedMatrix.PanelWidth"/>; int8 panels are 16):
    /// the intermediate GEMM pads its last panel of output columns with zeros, so 717 neurons cost as much as 736.</summary>
    public int FfnMultiple { get; init; } = Kernels.Packed.PackedMatrix.PanelWidth;
}

/// <summary>What <see cref="StructuredPruneFolder.Run"/> removed. Layer keys are layer indices (ALBERT: layer groups); head
/// indices are original ones.</summary>
public sealed record StructuredPruneResult(
    string OutputDirectory,
    IReadOnlyDictionary<int, IReadOnlyList<int>> RemovedHeads,   // by this run
    IReadOnlyDictionary<int, IReadOnlyList<int>> PrunedHeads,    // written to config.json (earlier pruning merged in)
    int HeadsBefore, int HeadsAfter,                             // summed over layers
    int IntermediateBefore, int IntermediateAfter,
    long ParametersBefore, long ParametersAfter);                // of the tensors that were pruned

/// <summary>
/// Structured pruning of a model folder: removes the least important attention heads and feed-forward neurons of every
/// encoder layer (<see cref="StructuredPruning"/>), physically shrinking query/key/value (rows), attention output
/// (columns), intermediate (rows and bias) and output (columns). config.json records the removed heads in Hugging Face's
/// <c>pruned_heads</c> ({"layer": [original head indices]}, merged with any already there) and the new
/// <c>intermediate_size</c> (DistilBERT <c>hidden_dim</c>), so the folder loads here and in transformers alike.
/// </summary>
public static class StructuredPruneFolder
{
    /// <summary>
    /// Per layer: removes floor(Heads·heads) heads (at least one head stays) and keeps <see cref="StructuredPruning.NeuronsToKeep"/>
    /// neurons — the same count in every layer, because config.json has one intermediate size. Writes one model.safetensors
    /// (every other tensor byte-identical, <c>__metadata__</c> <c>nt.prune.*</c>), the config and a copy of every other file.
    /// The output folder must not exist or be empty. Throws <see cref="NativeTransformerException"/> subtypes.
    /// </summary>
    public static StructuredPruneResult Run(string inputDir, string outputDir, StructuredPruneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (input, output) = ModelFolderOutput.Check(inputDir, outputDir);
        if (!(options.Heads >= 0 && options.Heads < 1)) throw new InputException($"heads fraction must be in [0, 1), got {options.Heads}");
        if (!(options.Ffn >= 0 && options.Ffn < 1)) throw new InputException($"ffn fraction must be in [0, 1), got {options.Ffn}");
        if (options.FfnMultiple < 1) throw new InputException($"the FFN multiple must be positive, got {options.FfnMultiple}");
        var config = ModelConfig.Load(Path.Combine(input, "config.json"));
        if (config.Family == ModelFamily.T5)
            throw new NativeTransformerException($"{input}: model_type t5 is not supported by structured prune (its Linears have T5's names and no biases); " +
                "load it with --int8 for int8 Linears");
        if (config.Family == ModelFamily.MobileBert)
            throw new NativeTransformerException($"{input}: model_type mobilebert is not supported by structured prune (its bottleneck and stacked-FFN Linears are " +
                "not in the selection); load it with --int8 for int8 Linears, or use drop-layers");

        using var source = Checkpoint.Open(input);
        var layout = CheckpointLayout.For(config, CheckpointLayout.DetectPrefix(config.Family, n => source.TryGetInfo(n, out _)));
        int d = config.HeadSize, h = config.HiddenSize, neurons = config.IntermediateSize;
        int keepNeurons = StructuredPruning.NeuronsToKeep(neurons, options.Ffn, options.FfnMultiple);

        var replaced = new Dictionary<string, (float[] Values, long[] Shape)>(StringComparer.Ordinal);
        var removedHeads = new Dictionary<int, IReadOnlyList<int>>();
        var prunedHeads = new Dictionary<int, IReadOnlyList<int>>();
        int headsBefore = 0, headsAfter = 0;
        long paramsBefore = 0, paramsAfter = 0;
        // Every distinct weight set once: the layers, or ALBERT's shared groups (pruned_heads keys name the same units).
        for (int g = 0; g < config.WeightedLayers; g++)
        {
            var k = layout.Layer(g);
            var already = config.PrunedHeads.GetValueOrDefault(g) ?? [];
            var original = Enumerable.Range(0, config.NumHeads).Except(already).ToArray();
            int a = original.Length * d;
            var attention = new AttentionBlock(
                Read(source, k.Query + ".weight", a, h), Read(source, k.Query + ".bias", a),
                Read(source, k.Key + ".weight", a, h), Read(source, k.Key + ".bias", a),
                Read(source, k.Value + ".weight", a, h), Read(source, k.Value + ".bias", a),
                Read(source, k.AttentionOutput + ".weight", h, a), h, d, original);
            var ffn = new FfnBlock(Read(source, k.Intermediate + ".weight", neurons, h), Read(source, k.Intermediate + ".bias", neurons),
                Read(source, k.Output + ".weight", h, neurons), h, neurons);
            paramsBefore += 4L * a * h + 3L * a + 2L * neurons * h + neurons;

            var (prunedAttention, removed) = StructuredPruning.PruneHeads(attention, StructuredPruning.HeadsToRemove(attention.Heads, options.Heads));
            var prunedFfn = StructuredPruning.PruneNeurons(ffn, neurons - keepNeurons);
            headsBefore += attention.Heads;
            headsAfter += prunedAttention.Heads;
            if (removed.Length > 0) removedHeads[g] = removed;
            var all = already.Concat(removed).Order().ToArray();
            if (all.Length > 0) prunedHeads[g] = all;

            int na = prunedAttention.Width;
            replaced[k.Query + ".weight"] = (prunedAttention.Query, [na, h]);
            replaced[k.Query + ".bias"] = (prunedAttention.QueryBias, [na]);
            replaced[k.Key + ".weight"] = (prunedAttention.Key, [na, h]);
            replaced[k.Key + ".bias"] = (prunedAttention.KeyBias, [na]);
            replaced[k.Value + ".weight"] = (prunedAttention.Value, [na, h]);
            replaced[k.Value + ".bias"] = (prunedAttention.ValueBias, [na]);
            replaced[k.AttentionOutput + ".weight"] = (prunedAttention.Output, [h, na]);
            replaced[k.Intermediate + ".weight"] = (prunedFfn.In, [keepNeurons, h]);
            replaced[k.Intermediate + ".bias"] = (prunedFfn.InBias, [keepNeurons]);
            replaced[k.Output + ".weight"] = (prunedFfn.Out, [h, keepNeurons]);
            paramsAfter += 4L * na * h + 3L * na + 2L * keepNeurons * h + keepNeurons;
        }

        // config.json first: a config the rewrite cannot handle fails before any weights are written.
        string configPath = Path.Combine(input, "config.json");
        ModelFolderOutput.RewriteConfig(input, output, json =>
        {
            string sizeKey = config.Family == ModelFamily.DistilBert ? "hidden_dim" : "intermediate_size";
            if (!json.ContainsKey(sizeKey)) throw new ModelConfigException($"{configPath}: no {sizeKey} field");
            json[sizeKey] = keepNeurons;
            var heads = ModelFolderOutput.PrunedHeadsJson(prunedHeads);
            if (heads.Count > 0 || json.ContainsKey("pruned_heads")) json["pruned_heads"] = heads;
        });

        var tensors = ModelFolderOutput.TensorsWith(source,
            replaced.ToDictionary(kv => kv.Key, kv => TensorToWrite.FromFloat32(kv.Key, kv.Value.Shape, kv.Value.Values), StringComparer.Ordinal));
        var metadata = ModelFolderOutput.Metadata(source);
        metadata.TryAdd("format", "pt");
        metadata["nt.prune.method"] = "structured";
        metadata["nt.prune.heads"] = options.Heads.ToString("R", CultureInfo.InvariantCulture);
        metadata["nt.prune.ffn"] = options.Ffn.ToString("R", CultureInfo.InvariantCulture);
        SafetensorsWriter.Write(Path.Combine(output, Checkpoint.SingleFileName), tensors, metadata);
        ModelFolderOutput.CopyNonWeightFiles(input, output, "config.json");

        return new StructuredPruneResult(output, removedHeads, prunedHeads, headsBefore, headsAfter, neurons, keepNeurons, paramsBefore, paramsAfter);
    }

    /// <summary>An F32 tensor of exactly <paramref name="shape"/>, copied; anything else is a <see cref="WeightException"/> naming it.</summary>
    private static float[] Read(ITensorSource source, string key, params int[] shape)
    {
        if (!source.TryGetInfo(key, out var info)) throw new WeightException(key, $"{key}: missing from the checkpoint");
        if (info.DType != DType.F32) throw new WeightException(key, $"{key}: dtype {info.DType}; structured pruning reads F32 weights only");
        if (!info.Shape.AsSpan().SequenceEqual(Array.ConvertAll(shape, x => (long)x)))
            throw new WeightException(key, $"{key}: shape {info.ShapeText}, expected [{string.Join(", ", shape)}] from config.json");
        return source.GetFloat32(key).ToArray();
    }
}
