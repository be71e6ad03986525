using System.Globalization;
using NativeTransformer.Compression;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.WeightsTools;

/// <summary>The per-matrix sparsity section that <c>weights-tools inspect</c> prints after the summary.</summary>
public static class InspectCommand
{
    /// <summary>The quantization marker of a quantized folder, then for every 2-D float or I8 tensor: name, dtype, shape,
    /// exact zeros and their fraction (for I8, zero quantized values); nothing when the folder has no weights file.</summary>
    public static void WriteSparsity(string dir, TextWriter stdout)
    {
        WriteHeadsPerLayer(dir, stdout);
        if (!File.Exists(Path.Combine(dir, Checkpoint.SingleFileName)) && !File.Exists(Path.Combine(dir, Checkpoint.IndexFileName)))
            return;
        using var source = Checkpoint.Open(dir);
        if (source is SafetensorsFile file && file.Metadata.TryGetValue(QuantizationFormat.MetadataKey, out var format))
            stdout.Write($"quantization:      {format} (embeddings {file.Metadata.GetValueOrDefault(QuantizationFormat.EmbeddingsKey, "?")})\n");
        stdout.Write("sparsity per matrix (2-D float and I8 tensors, fraction of exact zeros; I8: zero quantized values):\n");
        long zeros = 0, count = 0;
        foreach (var t in source.Tensors)
        {
            if (t.Shape.Length != 2 || !(t.DType.IsFloatingPoint() || t.DType == DType.I8)) continue;
            long z = t.DType == DType.I8 ? source.GetBytes(t.Name).Count((byte)0) : MagnitudePruning.CountZeros(source.GetFloat32(t.Name).Span);
            zeros += z;
            count += t.ElementCount;
            stdout.Write(string.Create(CultureInfo.InvariantCulture,
                $"  {t.Name,-70} {t.DType.HeaderName(),-4} {t.ShapeText,-13} {z,10:N0} / {t.ElementCount,10:N0}  {(t.ElementCount == 0 ? 0 : (double)z / t.ElementCount):F4}\n"));
        }
        stdout.Write(string.Create(CultureInfo.InvariantCulture,
            $"  total: {zeros:N0} / {count:N0} zeros ({(count == 0 ? 0 : (double)zeros / count):F4})\n"));
    }

    /// <summary>After structured pruning (config.json pruned_heads) the layers differ: one line with the heads left per layer.</summary>
    private static void WriteHeadsPerLayer(string dir, TextWriter stdout)
    {
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        if (config.PrunedHeads.Count == 0) return;
        string unit = config.Family == ModelFamily.Albert ? "layer group" : "layer";
        stdout.Write($"heads per {unit}:  {string.Join(", ", Enumerable.Range(0, config.WeightedLayers).Select(config.HeadsInLayer))} " +
            $"(pruned_heads {string.Join("; ", config.PrunedHeads.OrderBy(p => p.Key).Select(p => $"{p.Key}: {string.Join(",", p.Value)}"))})\n");
    }
}
