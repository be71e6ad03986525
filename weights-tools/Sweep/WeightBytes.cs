using System.Text.RegularExpressions;
using NativeTransformer.Compression;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.WeightsTools.Sweep;

/// <summary>
/// Bytes of a candidate's weights as they would be shipped. fp32: the tensor bytes of the (transformed) folder
/// without the dropped layers ("fp32 tensors", exact). int8: an estimate until the int8 folder writer exists —
/// 1 byte per encoder Linear weight plus one F32 scale per output row, every other tensor as stored ("int8 estimate").
/// Magnitude pruning keeps dense storage, so it does not change the bytes.
/// </summary>
public static partial class WeightBytes
{
    public const string Fp32Kind = "fp32 tensors";
    public const string Int8EstimateKind = "int8 estimate";

    [GeneratedRegex(@"(?:^|\.)(?:encoder|transformer)\.layer\.(\d+)\.", RegexOptions.CultureInvariant)]
    private static partial Regex LayerIndex();

    public static (long Bytes, string Kind) Measure(string folder, SweepPoint p)
    {
        var config = ModelConfig.Load(Path.Combine(folder, "config.json"));
        // ALBERT shares one layer's weights across depth: dropping layers saves no bytes there.
        int kept = config.Family == ModelFamily.Albert ? int.MaxValue : config.NumLayers - p.DropTop;
        long bytes = 0;
        using var source = Checkpoint.Open(folder);
        foreach (var t in source.Tensors)
        {
            if (LayerIndex().Match(t.Name) is { Success: true } m && int.Parse(m.Groups[1].Value) >= kept) continue;
            if (p.IsInt8 && PruneSelection.IsEncoderLinearWeight(t.Name) && t.Shape.Length == 2)
                bytes += t.ElementCount + 4 * t.Shape[0];
            else
                bytes += t.ByteLength;
        }
        return (bytes, p.IsInt8 ? Int8EstimateKind : Fp32Kind);
    }
}
