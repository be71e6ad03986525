using System.Text.Json;
using System.Text.Json.Nodes;
using NativeTransformer.Weights;

namespace NativeTransformer.Compression;

/// <summary>
/// What every weights → weights folder transform shares: checking the output folder before anything is written,
/// copying the files it does not transform (tokenizer, vocab, special tokens, sentence-transformers modules), and
/// rewriting config.json with some fields changed and every other field kept as it was.
/// </summary>
public static class ModelFolderOutput
{
    /// <summary>Full paths of <paramref name="inputDir"/> and <paramref name="outputDir"/> after checking that the input is a
    /// folder, the output differs from it, is not a file, does not exist or is empty, and can be created and written (probed,
    /// so a bad output path fails before any weight is read). Throws <see cref="InputException"/>.</summary>
    public static (string Input, string Output) Check(string inputDir, string outputDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputDir);
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        string input = Path.GetFullPath(inputDir), output = Path.GetFullPath(outputDir);
        if (!Directory.Exists(input)) throw new InputException($"{input}: the model folder does not exist");
        if (string.Equals(input.TrimEnd(Path.DirectorySeparatorChar), output.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            throw new InputException($"{output}: the output folder must differ from the model folder");
        if (File.Exists(output)) throw new InputException($"{output}: the output path is a file");
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new InputException($"{output}: the output folder exists and is not empty");
        EnsureWritable(output);
        return (input, output);
    }

    /// <summary>Creates <paramref name="output"/> (and its parents) and writes and deletes a probe file in it, so an output
    /// path that cannot be used (read-only, under a file, /proc) fails up front with its path instead of a bare IOException
    /// midway. Unless <paramref name="keep"/>, the folders it had to create are removed again, so a run that fails later
    /// leaves nothing behind. Throws <see cref="InputException"/>.</summary>
    public static void EnsureWritable(string output, bool keep = false)
    {
        string? created = Path.GetFullPath(output);   // the topmost folder this call creates, if any
        for (string? up = Path.GetDirectoryName(created); up != null && !Directory.Exists(up); up = Path.GetDirectoryName(up)) created = up;
        if (Directory.Exists(created)) created = null;
        try
        {
            Directory.CreateDirectory(output);
            string probe = Path.Combine(output, ".write-test");
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            if (!keep && created != null) Directory.Delete(created, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{output}: the output folder is not writable ({e.Message})", e);
        }
    }

    /// <summary>Copies every top-level file except the weights (<c>*.safetensors</c>, the shard index) and the names in
    /// <paramref name="alsoSkip"/>, and every subfolder (sentence-transformers modules such as <c>1_Pooling</c>).</summary>
    public static void CopyNonWeightFiles(string input, string output, params string[] alsoSkip)
    {
        Directory.CreateDirectory(output);
        foreach (string file in Directory.EnumerateFiles(input))
        {
            string name = Path.GetFileName(file);
            if (name == Checkpoint.IndexFileName || name.EndsWith(".safetensors", StringComparison.Ordinal) || alsoSkip.Contains(name)) continue;
            File.Copy(file, Path.Combine(output, name));
        }
        foreach (string dir in Directory.EnumerateDirectories(input))
            if (!IsSameOrInside(output, dir)) // an output folder inside the input is not part of the model
                CopyTree(dir, Path.Combine(output, Path.GetFileName(dir)));
    }

    private static bool IsSameOrInside(string path, string folder)
    {
        string p = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string f = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return p.StartsWith(f, StringComparison.Ordinal);
    }

    /// <summary>Writes <c>output/config.json</c>: the input's config.json as a JSON object, changed by <paramref name="edit"/>,
    /// every other field kept. Throws <see cref="ModelConfigException"/> when the input config is not a JSON object.</summary>
    public static void RewriteConfig(string input, string output, Action<JsonObject> edit)
    {
        string path = Path.Combine(input, "config.json");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new ModelConfigException($"{path}: {e.Message}", e); }
        if (root is not JsonObject obj) throw new ModelConfigException($"{path}: not a JSON object");
        edit(obj);
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "config.json"), obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The input's safetensors <c>__metadata__</c> (single-file checkpoints; empty for sharded ones), copied.</summary>
    public static Dictionary<string, string> Metadata(ITensorSource source)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (source is SafetensorsFile single)
            foreach (var (k, v) in single.Metadata) metadata[k] = v;
        return metadata;
    }

    /// <summary>Every tensor of <paramref name="source"/> in order: <paramref name="replaced"/>'s version where it has one
    /// (same name), else the stored bytes unchanged.</summary>
    public static List<TensorToWrite> TensorsWith(ITensorSource source, IReadOnlyDictionary<string, TensorToWrite> replaced)
    {
        var tensors = new List<TensorToWrite>(source.Tensors.Count);
        foreach (var t in source.Tensors)
            tensors.Add(replaced.TryGetValue(t.Name, out var r) ? r : TensorToWrite.FromBytes(t.Name, t.DType, t.Shape, source.GetBytes(t.Name)));
        return tensors;
    }

    /// <summary>Hugging Face's <c>pruned_heads</c> config value: <c>{"layer": [original head indices]}</c>, layers in order.</summary>
    public static JsonObject PrunedHeadsJson(IReadOnlyDictionary<int, IReadOnlyList<int>> prunedHeads)
    {
        var heads = new JsonObject();
        foreach (var (layer, removed) in prunedHeads.OrderBy(kv => kv.Key))
            heads[layer.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonArray(removed.Select(h => (JsonNode?)h).ToArray());
        return heads;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (string d in Directory.EnumerateDirectories(from)) CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
