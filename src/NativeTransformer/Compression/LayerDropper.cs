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
        ArgumentException.ThrowIfNullOrEmpty(sourceDirectory);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentNullException.ThrowIfNull(keep);
        string src = Path.GetFullPath(sourceDirectory), dst = Path.GetFullPath(outputDirectory);
        if (!Directory.Exists(src)) throw new InputException($"{src}: the model folder does not exist");
        if (string.Equals(src.TrimEnd(Path.DirectorySeparatorChar), dst.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            throw new InputException($"{dst}: the output folder must differ from the model folder");
        if (Directory.Exists(dst) && Directory.EnumerateFileSystemEntries(dst).Any())
            throw new InputException($"{dst}: the output folder exists and is not empty");

        string configPath = Path.Combine(src, "config.json");
        var config = ModelConfig.Load(configPath);
        var kept = LayerSelection.Resolve(config.NumLayers, keep)!;
        if (config.Family == ModelFamily.Albert && config.NumHiddenGroups != 1)
            throw new InputException($"ALBERT with num_hidden_groups {config.NumHiddenGroups}: dropping layers would change which group each layer runs; only num_hidden_groups 1 is supported");

        JsonNode root;
        try { root = JsonNode.Parse(File.ReadAllText(configPath)) ?? throw new InputException($"{configPath}: not a JSON object"); }
        catch (JsonException e) { throw new ModelConfigException($"{configPath}: {e.Message}", e); }
        if (root is not JsonObject obj) throw new ModelConfigException($"{configPath}: not a JSON object");
        bool updated = false;
        foreach (string key in new[] { "num_hidden_layers", "n_layers" })
            if (obj.ContainsKey(key)) { obj[key] = kept.Length; updated = true; }
        if (!updated) throw new ModelConfigException($"{configPath}: no num_hidden_layers / n_layers field");

        Directory.CreateDirectory(dst);
        int written = 0, dropped = 0;
        using (var weights = Checkpoint.Open(src))
        {
            var tensors = new List<TensorToWrite>(weights.Tensors.Count);
            string? layerPrefix = config.Family switch
            {
                ModelFamily.Bert => CheckpointLayout.DetectPrefix(config.Family, n => weights.TryGetInfo(n, out _)) + "encoder.layer.",
                ModelFamily.DistilBert => CheckpointLayout.DetectPrefix(config.Family, n => weights.TryGetInfo(n, out _)) + "transformer.layer.",
                _ => null, // ALBERT: shared group weights stay as they are
            };
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

        File.WriteAllText(Path.Combine(dst, "config.json"), obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

        // Tokenizer, vocab, special tokens, sentence-transformers files: every non-weight file, plus module folders (1_Pooling, …).
        foreach (string file in Directory.EnumerateFiles(src))
        {
            string fileName = Path.GetFileName(file);
            if (fileName is "config.json" or Checkpoint.IndexFileName || fileName.EndsWith(".safetensors", StringComparison.Ordinal)) continue;
            File.Copy(file, Path.Combine(dst, fileName));
        }
        foreach (string dir in Directory.EnumerateDirectories(src))
        {
            string dirName = Path.GetFileName(dir);
            int underscore = dirName.IndexOf('_');
            if (underscore > 0 && dirName[..underscore].All(char.IsAsciiDigit)) CopyTree(dir, Path.Combine(dst, dirName));
        }
        return new LayerDropResult(dst, config.NumLayers, kept, written, dropped);
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (string d in Directory.EnumerateDirectories(from)) CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
