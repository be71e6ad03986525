using System.Globalization;

namespace NativeTransformer.WeightsTools.Sweep;

/// <summary>
/// Every compression setting of one sweep / autocompress candidate. A new axis is one more field here, one
/// <see cref="ISweepStep"/> in <see cref="SweepSteps.Default"/> and one option in the commands.
/// </summary>
/// <param name="Precision">"fp32" or "int8".</param>
/// <param name="DropTop">Encoder layers dropped from the top.</param>
/// <param name="Sparsity">Magnitude-pruning sparsity of the encoder Linear weights (per matrix).</param>
/// <param name="Heads">Fraction of attention heads removed (structured pruning).</param>
/// <param name="Ffn">Fraction of FFN neurons removed (structured pruning).</param>
public sealed record SweepPoint(string Precision = "fp32", int DropTop = 0, double Sparsity = 0, double Heads = 0, double Ffn = 0)
{
    public static readonly SweepPoint Baseline = new();

    public bool IsInt8 => Precision == "int8";

    /// <summary>"int8, drop-top 1, sparsity 0.5" — the non-default settings after the precision.</summary>
    public string Label
    {
        get
        {
            var parts = new List<string> { Precision };
            if (DropTop != 0) parts.Add($"drop-top {DropTop}");
            if (Sparsity != 0) parts.Add(F($"sparsity {Sparsity:0.###}"));
            if (Heads != 0) parts.Add(F($"heads {Heads:0.###}"));
            if (Ffn != 0) parts.Add(F($"ffn {Ffn:0.###}"));
            return string.Join(", ", parts);
        }
    }

    internal static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What one candidate measured. <see cref="Score"/> is the task's headline metric in percent (accuracy, or
/// Spearman for STS-B).</summary>
public sealed record SweepMeasurement(
    SweepPoint Point,
    double Score,
    double P50Ms,
    double ThroughputPerSec,
    long WeightBytes,
    string BytesKind,
    int Threads,
    int LatencySentences);
