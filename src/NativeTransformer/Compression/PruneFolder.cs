using System.Globalization;
using System.Text.Json;
using NativeTransformer.Weights;

namespace NativeTransformer.Compression;

/// <summary>Options of <see cref="PruneFolder.Run"/>.</summary>
public sealed record PruneOptions(double Sparsity, PruningScope Scope = PruningScope.Matrix, SparsityPattern Pattern = SparsityPattern.Unstructured);

/// <summary>Achieved sparsity of one pruned matrix.</summary>
public sealed record PrunedMatrix(string Name, long[] Shape, long Zeros, long Count)
{
    public double Sparsity => Count == 0 ? 0 : (double)Zeros / Count;
}

/// <summary>Magnitude-prunes the encoder Linear weights of a model folder into a new folder.</summary>
public static class PruneFolder
{
    /// <summary>
    /// Reads <paramref name="inputDir"/> (single or sharded safetensors), prunes the encoder Linear weights selected by
    /// <see cref="PruneSelection"/> with <see cref="MagnitudePruning.Prune"/>, and writes <paramref name="outputDir"/>:
    /// one <c>model.safetensors</c> with the same tensor names, dtypes and shapes (all other tensors byte-identical),
    /// <c>__metadata__</c> recording the pruning (<c>nt.prune.*</c>), and a copy of every other file and subfolder
    /// (config, tokenizer, sentence-transformers files). The output folder must not exist or be empty.
    /// Throws <see cref="NativeTransformerException"/> for a selected weight that is not F32 or when nothing is selected.
    /// </summary>
    public static IReadOnlyList<PrunedMatrix> Run(string inputDir, string outputDir, PruneOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputDir);
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        ArgumentNullException.ThrowIfNull(options);
        string input = Path.GetFullPath(inputDir), output = Path.GetFullPath(outputDir);
        if (string.Equals(input.TrimEnd(Path.DirectorySeparatorChar), output.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            throw new NativeTransformerException($"{output}: the output folder must differ from the input folder");
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new NativeTransformerException($"{output}: the output folder exists and is not empty");
        if (File.Exists(output))
            throw new NativeTransformerException($"{output}: the output path is a file");

        using var source = Checkpoint.Open(input);
        var selected = new List<NamedMatrix>();
        foreach (var t in source.Tensors)
        {
            if (!PruneSelection.IsEncoderLinearWeight(t.Name)) continue;
            if (t.Shape.Length != 2)
                throw new NativeTransformerException($"{input}: tensor '{t.Name}' has shape {t.ShapeText}; an encoder Linear weight must be 2-D");
            if (t.DType != DType.F32)
                throw new NativeTransformerException($"{input}: tensor '{t.Name}' is {t.DType.HeaderName()}; only F32 weights can be pruned");
            selected.Add(new NamedMatrix(t.Name, source.GetFloat32(t.Name).ToArray(), checked((int)t.Shape[0]), checked((int)t.Shape[1])));
        }
        if (selected.Count == 0)
            throw new NativeTransformerException($"{input}: no encoder Linear weights (BERT, DistilBERT or ALBERT names) to prune");

        IReadOnlyList<NamedMatrix> pruned;
        try
        {
            pruned = MagnitudePruning.Prune(selected, options.Sparsity, options.Scope, options.Pattern);
        }
        catch (ArgumentException e)
        {
            throw new NativeTransformerException($"{input}: {e.Message}");
        }
        var byName = pruned.ToDictionary(m => m.Name, StringComparer.Ordinal);

        var tensors = new List<TensorToWrite>(source.Tensors.Count);
        foreach (var t in source.Tensors)
            tensors.Add(byName.TryGetValue(t.Name, out var m)
                ? TensorToWrite.FromFloat32(t.Name, t.Shape, m.Values)
                : TensorToWrite.FromBytes(t.Name, t.DType, t.Shape, source.GetBytes(t.Name)));

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (source is SafetensorsFile single)
            foreach (var (k, v) in single.Metadata) metadata[k] = v;
        metadata.TryAdd("format", "pt");
        metadata["nt.prune.method"] = "magnitude";
        metadata["nt.prune.sparsity"] = options.Sparsity.ToString("R", CultureInfo.InvariantCulture);
        metadata["nt.prune.scope"] = options.Pattern == SparsityPattern.TwoFour ? "matrix" : options.Scope.ToString().ToLowerInvariant();
        metadata["nt.prune.pattern"] = options.Pattern == SparsityPattern.TwoFour ? "2:4" : "unstructured";
        metadata["nt.prune.tensors"] = pruned.Count.ToString(CultureInfo.InvariantCulture);

        Directory.CreateDirectory(output);
        CopyOtherFiles(input, output, WeightFileNames(input));
        SafetensorsWriter.Write(Path.Combine(output, Checkpoint.SingleFileName), tensors, metadata);

        return pruned.Select(m => new PrunedMatrix(m.Name, [m.Rows, m.Cols], MagnitudePruning.CountZeros(m.Values), m.Count)).ToList();
    }

    /// <summary>Top-level weight files not to copy: model.safetensors, the shard index and its shards.</summary>
    private static HashSet<string> WeightFileNames(string dir)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { Checkpoint.SingleFileName, Checkpoint.IndexFileName };
        string index = Path.Combine(dir, Checkpoint.IndexFileName);
        if (File.Exists(index) && !File.Exists(Path.Combine(dir, Checkpoint.SingleFileName)))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(index));
            if (doc.RootElement.TryGetProperty("weight_map", out var map) && map.ValueKind == JsonValueKind.Object)
                foreach (var p in map.EnumerateObject())
                    if (p.Value.ValueKind == JsonValueKind.String) names.Add(p.Value.GetString()!);
        }
        return names;
    }

    private static void CopyOtherFiles(string from, string to, HashSet<string> skipTopLevel)
    {
        foreach (var file in Directory.EnumerateFiles(from))
        {
            string name = Path.GetFileName(file);
            if (skipTopLevel.Contains(name)) continue;
            File.Copy(file, Path.Combine(to, name));
        }
        foreach (var sub in Directory.EnumerateDirectories(from))
            CopyTree(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var sub in Directory.EnumerateDirectories(from)) CopyTree(sub, Path.Combine(to, Path.GetFileName(sub)));
    }
}
