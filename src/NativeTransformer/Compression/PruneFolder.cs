using System.Globalization;
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
        ArgumentNullException.ThrowIfNull(options);
        var (input, output) = ModelFolderOutput.Check(inputDir, outputDir);

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
        var tensors = ModelFolderOutput.TensorsWith(source,
            pruned.ToDictionary(m => m.Name, m => TensorToWrite.FromFloat32(m.Name, source.GetInfo(m.Name).Shape, m.Values), StringComparer.Ordinal));

        var metadata = ModelFolderOutput.Metadata(source);
        metadata.TryAdd("format", "pt");
        metadata["nt.prune.method"] = "magnitude";
        metadata["nt.prune.sparsity"] = options.Sparsity.ToString("R", CultureInfo.InvariantCulture);
        metadata["nt.prune.scope"] = options.Pattern == SparsityPattern.TwoFour ? "matrix" : options.Scope.ToString().ToLowerInvariant();
        metadata["nt.prune.pattern"] = options.Pattern == SparsityPattern.TwoFour ? "2:4" : "unstructured";
        metadata["nt.prune.tensors"] = pruned.Count.ToString(CultureInfo.InvariantCulture);

        ModelFolderOutput.CopyNonWeightFiles(input, output);
        SafetensorsWriter.Write(Path.Combine(output, Checkpoint.SingleFileName), tensors, metadata);

        return pruned.Select(m => new PrunedMatrix(m.Name, [m.Rows, m.Cols], MagnitudePruning.CountZeros(m.Values), m.Count)).ToList();
    }
}
