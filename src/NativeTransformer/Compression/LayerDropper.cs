using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.Compression;

/// <summary>What <see cref="LayerDropper.Drop"/> wrote.</summary>
public sealed record LayerDropResult(string OutputDirectory, int OriginalLayers, IReadOnlyList<int> KeptLayers, int TensorsWritten, int TensorsDropped);

/// <summary>
/// Writes a copy of a model folder that keeps only some encoder layers: the kept layers' tensors renumbered
/// 0..k-1 (BERT <c>…encoder.layer.{i}.…</c>, DistilBERT <c>…transformer.layer.{i}.…</c>), everything else copied
/// unchanged, config.json's layer count updated (every other field kept), and the tokenizer, vocab and
/// sentence-transformers files copied. ALBERT shares its layer weights, so only the config changes there.
/// Loading the result equals loading the original with <see cref="LoadOptions.KeepLayers"/> bit for bit.
/// </summary>
public static class LayerDropper
{
    /// <summary>Reduces <paramref name="sourceDirectory"/> to the layers in <paramref name="keep"/> (ascending, see
    /// <see cref="LayerSelection.Resolve(int, IReadOnlyList{int}?, int?, int?)"/>) into <paramref name="outputDirectory"/>,
    /// which must not exist or be empty.</summary>
    public static LayerDropResult Drop(string sourceDirectory, string outputDirectory, IReadOnlyList<int> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var (src, dst) = ModelFolderOutput.Check(sourceDirectory, outputDirectory);

        string configPath = Path.Combine(src, "config.json");
        var config = ModelConfig.Load(configPath);
        var kept = LayerSelection.Resolve(config.NumLayers, keep)!;
        if (config.Family == ModelFamily.Albert && config.NumHiddenGroups != 1)
            throw new InputException($"ALBERT with num_hidden_groups {config.NumHiddenGroups}: dropping layers would change which group each layer runs; only num_hidden_groups 1 is supported");

        // config.json first: a config without a layer count fails before any weights are written.
        ModelFolderOutput.RewriteConfig(src, dst, json =>
        {
            bool updated = false;
            foreach (string key in new[] { "num_hidden_layers", "n_layers" })
                if (json.ContainsKey(key)) { json[key] = kept.Length; updated = true; }
            if (!updated) throw new ModelConfigException($"{configPath}: no num_hidden_layers / n_layers field");
            // pruned_heads is keyed by layer index (ALBERT: by shared group, which dropping does not renumber).
            var reduced = config.KeepLayers(kept);
            if (config.Family != ModelFamily.Albert && json.ContainsKey("pruned_heads"))
            {
                json["pruned_heads"] = ModelFolderOutput.PrunedHeadsJson(reduced.PrunedHeads);
            }
        });

        int written = 0, dropped = 0;
        using (var weights = Checkpoint.Open(src))
        {
            var tensors = new List<TensorToWrite>(weights.Tensors.Count);
            // Null for ALBERT: shared group weights stay as they are.
            string? layerPrefix = CheckpointLayout.For(config,
                CheckpointLayout.DetectPrefix(config.Family, n => weights.TryGetInfo(n, out _))).LayerPrefix;
            var newIndex = new Dictionary<int, int>();
            for (int j = 0; j < kept.Length; j++) newIndex[kept[j]] = j;
            foreach (var t in weights.Tensors)
            {
                string name = t.Name;
                if (layerPrefix is not null && name.StartsWith(layerPrefix, StringComparison.Ordinal))
                {
                    int dot = name.IndexOf('.', layerPrefix.Length);
                    if (dot > layerPrefix.Length && int.TryParse(name.AsSpan(layerPrefix.Length, dot - layerPrefix.Length),
                            NumberStyles.None, CultureInfo.InvariantCulture, out int layer))
                    {
                        if (!newIndex.TryGetValue(layer, out int j)) { dropped++; continue; }
                        name = layerPrefix + j.ToString(CultureInfo.InvariantCulture) + name[dot..];
                    }
                }
                tensors.Add(TensorToWrite.FromBytes(name, t.DType, t.Shape, weights.GetBytes(t.Name)));
            }
            var metadata = weights is SafetensorsFile f && f.Metadata.Count > 0 ? f.Metadata : null;
            SafetensorsWriter.Write(Path.Combine(dst, Checkpoint.SingleFileName), tensors, metadata);
            written = tensors.Count;
        }

        ModelFolderOutput.CopyNonWeightFiles(src, dst, "config.json");
        return new LayerDropResult(dst, config.NumLayers, kept, written, dropped);
    }
}
