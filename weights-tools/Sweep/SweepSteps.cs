using NativeTransformer.Compression;
using NativeTransformer.Models;

namespace NativeTransformer.WeightsTools.Sweep;

/// <summary>The transform pipeline: structured pruning, magnitude pruning, layer dropping, precision (in this order).</summary>
public static class SweepSteps
{
    public static IReadOnlyList<ISweepStep> Default { get; } =
        [new StructuredPruningStep(), new MagnitudePruningStep(), new DropTopStep(), new PrecisionStep()];
}

/// <summary>Removes a fraction of attention heads and FFN neurons (--heads / --ffn). Folder step.</summary>
public sealed class StructuredPruningStep : ISweepStep
{
    public string Name => "structured";
    public bool IsIdentity(SweepPoint p) => p.Heads == 0 && p.Ffn == 0;
    public bool AtLoad => false;
    public string Key(SweepPoint p) => SweepPoint.F($"h{p.Heads:R}f{p.Ffn:R}");
    public LoadOptions Configure(LoadOptions options, SweepPoint p) => options;
    public void Write(string inDir, string outDir, SweepPoint p) => StructuredStep(inDir, outDir, p.Heads, p.Ffn);

    /// <summary>Writes the structurally pruned folder (<see cref="StructuredPruneFolder"/>); nothing when heads = ffn = 0.</summary>
    public static void StructuredStep(string inDir, string outDir, double heads, double ffn)
    {
        if (heads == 0 && ffn == 0) return;
        StructuredPruneFolder.Run(inDir, outDir, new StructuredPruneOptions(heads, ffn));
    }
}

/// <summary>Magnitude pruning of the encoder Linear weights per matrix (--sparsity), via <see cref="PruneFolder"/>. Folder step.</summary>
public sealed class MagnitudePruningStep : ISweepStep
{
    public string Name => "magnitude";
    public bool IsIdentity(SweepPoint p) => p.Sparsity == 0;
    public bool AtLoad => false;
    public string Key(SweepPoint p) => SweepPoint.F($"s{p.Sparsity:R}");
    public LoadOptions Configure(LoadOptions options, SweepPoint p) => options;
    public void Write(string inDir, string outDir, SweepPoint p) => PruneFolder.Run(inDir, outDir, new PruneOptions(p.Sparsity));
}

/// <summary>Drops the top encoder layers (--drop-top): <see cref="LoadOptions.DropTopLayers"/> in sweeps, <see cref="LayerDropper"/> when written.</summary>
public sealed class DropTopStep : ISweepStep
{
    public string Name => "drop-top";
    public bool IsIdentity(SweepPoint p) => p.DropTop == 0;
    public bool AtLoad => true;
    public string Key(SweepPoint p) => $"d{p.DropTop}";
    public LoadOptions Configure(LoadOptions options, SweepPoint p) => p.DropTop == 0 ? options : options with { DropTopLayers = p.DropTop };

    public void Write(string inDir, string outDir, SweepPoint p)
    {
        var config = ModelConfig.Load(Path.Combine(inDir, "config.json"));
        LayerDropper.Drop(inDir, outDir, LayerSelection.Resolve(config.NumLayers, dropTop: p.DropTop)!);
    }
}

/// <summary>Precision (--precision fp32|int8): int8 writes the folder users ship (<see cref="QuantizeFolder"/>: I8 encoder
/// Linear weights and word embeddings with per-row F32 scales), so accuracy and bytes are those of that folder. Folder step.</summary>
public sealed class PrecisionStep : ISweepStep
{
    public string Name => "precision";
    public bool IsIdentity(SweepPoint p) => !p.IsInt8;
    public bool AtLoad => false;
    public string Key(SweepPoint p) => p.Precision;
    public LoadOptions Configure(LoadOptions options, SweepPoint p) => options;
    public void Write(string inDir, string outDir, SweepPoint p) => QuantizeFolder.Run(inDir, outDir, new QuantizeOptions());
}

/// <summary>Recursive copy of a model folder.</summary>
public static class FolderCopy
{
    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from))
            Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}
