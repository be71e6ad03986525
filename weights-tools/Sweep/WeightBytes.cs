using System.Text.RegularExpressions;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.WeightsTools.Sweep;

/// <summary>
/// Bytes of a candidate's weights as they would be shipped: the stored tensor bytes of the transformed folder (int8
/// folders hold I8 weights plus their F32 scales) without the layers dropped at load. Magnitude pruning keeps dense
/// storage, so it does not change the bytes.
/// </summary>
public static partial class WeightBytes
{
    public const string Kind = "stored tensors";

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
            if (LayerIndex().Match(t.Name) is not { Success: true } m || int.Parse(m.Groups[1].Value) < kept)
                bytes += t.ByteLength;
        return (bytes, Kind);
    }
}
