using NativeTransformer.Evaluation;
using NativeTransformer.WeightsTools.Sweep;

namespace NativeTransformer.WeightsTools.AutoCompress;

public enum Objective { Bytes, Latency }

/// <summary>One candidate autocompress evaluated on the selection half.</summary>
public sealed record Candidate(SweepMeasurement Measurement, double Drop, bool WithinBudget)
{
    public SweepPoint Point => Measurement.Point;
}

/// <summary>
/// The search. Data: <see cref="Split"/> alternates rows (0-based even rows select, odd rows report), so both halves
/// cover the file evenly and the split is reproducible without a seed. Search: greedy, one axis at a time in the order
/// precision, drop-top, heads, ffn, sparsity; along an axis the levels are tried from mild to aggressive on top of
/// the settings kept so far, the most aggressive level whose selection score is within max-drop of the baseline is
/// kept, and the axis stops at its first failure (scores are assumed to fall monotonically along one axis). The choice
/// is the candidate with the best objective among all tried that stay within the budget (the baseline always does);
/// see <see cref="Choose"/> for ties.
/// </summary>
public sealed class AutoCompressSearch(SweepEngine engine, SweepArgs axes, double maxDrop, Objective objective, TextWriter? progress = null)
{
    public static readonly string[] AxisOrder = ["precision", "drop-top", "heads", "ffn", "sparsity"];

    public List<Candidate> Tried { get; } = [];
    public Candidate? Baseline { get; private set; }

    public static (List<TaskExample> Selection, List<TaskExample> Report) Split(IReadOnlyList<TaskExample> examples)
    {
        var selection = new List<TaskExample>();
        var report = new List<TaskExample>();
        for (int i = 0; i < examples.Count; i++) (i % 2 == 0 ? selection : report).Add(examples[i]);
        return (selection, report);
    }

    public Candidate Run(IReadOnlyList<TaskExample> selection, int latencySentences)
    {
        var latencyInputs = engine.LatencyInputs(selection, latencySentences);
        var baseline = engine.Measure(SweepPoint.Baseline, selection, latencyInputs).Measurement;
        Baseline = Record(baseline, baseline.Score);

        var current = SweepPoint.Baseline;
        foreach (var axis in AxisOrder)
        {
            var levels = axis switch
            {
                "precision" => axes.Precision.Where(p => p != "fp32").Select(p => current with { Precision = p }),
                "drop-top" => axes.DropTop.Where(d => d > 0).Order().Select(d => current with { DropTop = d }),
                "heads" => axes.Heads.Where(h => h > 0).Order().Select(h => current with { Heads = h }),
                "ffn" => axes.Ffn.Where(f => f > 0).Order().Select(f => current with { Ffn = f }),
                _ => axes.Sparsity.Where(s => s > 0).Order().Select(s => current with { Sparsity = s }),
            };
            var kept = current;
            foreach (var point in levels.ToList())
            {
                var c = Record(engine.Measure(point, selection, latencyInputs).Measurement, baseline.Score);
                if (!c.WithinBudget) break;
                kept = point;
            }
            current = kept;
        }
        return Choose(Tried, objective);
    }

    /// <summary>Latencies within this fraction of the fastest count as equal: timing noise must not buy a transform.</summary>
    public const double LatencyTolerance = 0.05;

    /// <summary>
    /// The best objective among the candidates within budget; candidates that tie with it (equal bytes, or latency within
    /// <see cref="LatencyTolerance"/>) go to the one tried first, i.e. the least transformed: a transform that does
    /// not improve the objective is not worth its accuracy risk on unseen data.
    /// </summary>
    public static Candidate Choose(IReadOnlyList<Candidate> tried, Objective objective)
    {
        var ok = tried.Where(c => c.WithinBudget).ToList();
        double Cost(Candidate c) => objective == Objective.Bytes ? c.Measurement.WeightBytes : c.Measurement.P50Ms;
        double best = ok.Min(Cost);
        double limit = objective == Objective.Bytes ? best : best * (1 + LatencyTolerance);
        return ok.First(c => Cost(c) <= limit);
    }

    private Candidate Record(SweepMeasurement m, double baselineScore)
    {
        double drop = Math.Round(baselineScore - m.Score, 2);
        var c = new Candidate(m, drop, drop <= maxDrop);
        Tried.Add(c);
        progress?.WriteLine(SweepPoint.F($"autocompress [{Tried.Count}] {m.Point.Label}: {m.Score:0.00} (drop {drop:0.00}{(c.WithinBudget ? "" : ", over budget")}), p50 {m.P50Ms:0.000} ms, {m.WeightBytes / 1e6:0.00} MB"));
        return c;
    }
}
