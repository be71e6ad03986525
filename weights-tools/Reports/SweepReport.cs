using System.Globalization;
using System.Text;
using NativeTransformer.WeightsTools.Sweep;

namespace NativeTransformer.WeightsTools.Reports;

/// <summary>Writes a sweep's results.csv, results.md and the three SVG plots.</summary>
public static class SweepReport
{
    public const string CsvFile = "results.csv", MarkdownFile = "results.md";
    public const string SparsityPlot = "accuracy-vs-sparsity.svg", LatencyPlot = "accuracy-vs-latency.svg", BytesPlot = "bytes-vs-accuracy.svg";

    /// <summary>CSV header: the settings, then the figures; <paramref name="metric"/> names the score column (accuracy / spearman).</summary>
    public static string CsvHeader(string metric) =>
        $"precision,drop_top,sparsity,heads,ffn,{metric},p50_ms,throughput_per_s,weight_bytes,bytes_kind,threads,latency_sentences";

    public static string CsvRow(SweepMeasurement m) => F(
        $"{m.Point.Precision},{m.Point.DropTop},{m.Point.Sparsity:0.###},{m.Point.Heads:0.###},{m.Point.Ffn:0.###},{m.Score:0.00},{m.P50Ms:0.000},{m.ThroughputPerSec:0.0},{m.WeightBytes},{m.BytesKind},{m.Threads},{m.LatencySentences}");

    public static void WriteAll(string outDir, string metric, IReadOnlyList<SweepMeasurement> rows, string title, IEnumerable<string> notes)
    {
        Directory.CreateDirectory(outDir);
        var csv = new StringBuilder(CsvHeader(metric)).Append('\n');
        foreach (var r in rows) csv.Append(CsvRow(r)).Append('\n');
        File.WriteAllText(Path.Combine(outDir, CsvFile), csv.ToString(), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(outDir, MarkdownFile), Markdown(metric, rows, title, notes), new UTF8Encoding(false));
        foreach (var (file, chart) in Plots(metric, rows)) chart.Save(Path.Combine(outDir, file));
    }

    public static string Markdown(string metric, IReadOnlyList<SweepMeasurement> rows, string title, IEnumerable<string> notes)
    {
        var md = new StringBuilder($"# {title}\n\n");
        foreach (var n in notes) md.Append("- ").Append(n).Append('\n');
        md.Append($"\n| precision | drop-top | sparsity | heads | ffn | {metric} (%) | p50 latency (ms) | throughput (ex/s) | weight bytes | bytes |\n");
        md.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        foreach (var m in rows)
            md.Append(F($"| {m.Point.Precision} | {m.Point.DropTop} | {m.Point.Sparsity:0.###} | {m.Point.Heads:0.###} | {m.Point.Ffn:0.###} | {m.Score:0.00} | {m.P50Ms:0.000} | {m.ThroughputPerSec:0.0} | {m.WeightBytes:N0} | {m.BytesKind} |\n"));
        md.Append($"\n![{metric} vs sparsity]({SparsityPlot})\n![{metric} vs latency]({LatencyPlot})\n![weight bytes vs {metric}]({BytesPlot})\n");
        return md.ToString();
    }

    /// <summary>
    /// The three plots: score vs sparsity (one line per combination of the other settings, e.g. "int8, drop-top 1"),
    /// score vs p50 latency and weight MB vs score (scatter, one colour per precision).
    /// </summary>
    public static IEnumerable<(string File, SvgChart Chart)> Plots(string metric, IReadOnlyList<SweepMeasurement> rows)
    {
        var sparsity = new SvgChart { Title = $"{metric} vs magnitude sparsity", XLabel = "sparsity of encoder Linear weights", YLabel = $"{metric} (%)" };
        foreach (var g in rows.GroupBy(r => (r.Point with { Sparsity = 0 }).Label))
            sparsity.Series.Add(new ChartSeries(g.Key, g.Select(r => (r.Point.Sparsity, r.Score)).ToList(), Line: true));
        var latency = new SvgChart { Title = $"{metric} vs latency (batch 1, p50)", XLabel = "p50 latency (ms)", YLabel = $"{metric} (%)" };
        var bytes = new SvgChart { Title = $"weight bytes vs {metric}", XLabel = $"{metric} (%)", YLabel = "weight MB" };
        foreach (var g in rows.GroupBy(r => r.Point.Precision))
        {
            latency.Series.Add(new ChartSeries(g.Key, g.Select(r => (r.P50Ms, r.Score)).ToList(), Line: false));
            bytes.Series.Add(new ChartSeries(g.Key, g.Select(r => (r.Score, r.WeightBytes / 1e6)).ToList(), Line: false));
        }
        return [(SparsityPlot, sparsity), (LatencyPlot, latency), (BytesPlot, bytes)];
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
