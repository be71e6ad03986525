using System.Globalization;
using System.Text;
using System.Text.Json;
using NativeTransformer.Evaluation;
using NativeTransformer.WeightsTools.Sweep;

namespace NativeTransformer.WeightsTools.AutoCompress;

/// <summary>Everything an autocompress run decided, for its reports.</summary>
public sealed record AutoCompressResult(
    SweepArgs Args, double MaxDrop, Objective Objective, int SelectionCount, int ReportCount,
    Candidate Baseline, Candidate Chosen, double BaselineReportScore, double ChosenReportScore,
    IReadOnlyList<Candidate> Tried, double? RecoveredReportScore = null, string? RecoveryTrainingJson = null);

/// <summary>Writes autocompress-report.json and autocompress-report.md.</summary>
public static class AutoCompressReport
{
    public const string Split = "alternate rows: 0-based even rows form the selection half, odd rows the report half";

    public static void Write(string outDir, AutoCompressResult r)
    {
        File.WriteAllText(Path.Combine(outDir, AutoCompressCommand.ReportName + ".json"), Json(r), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(outDir, AutoCompressCommand.ReportName + ".md"), Markdown(r), new UTF8Encoding(false));
    }

    public static string Json(AutoCompressResult r)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", Path.GetFullPath(r.Args.Model));
            w.WriteString("task", r.Args.Task.Name());
            w.WriteString("metric", r.Args.Task.PrimaryMetric());
            w.WriteString("data", r.Args.Data);
            w.WriteString("split", Split);
            w.WriteNumber("selection_examples", r.SelectionCount);
            w.WriteNumber("report_examples", r.ReportCount);
            w.WriteNumber("max_drop", r.MaxDrop);
            w.WriteString("objective", r.Objective.ToString().ToLowerInvariant());
            w.WriteNumber("threads", r.Args.Threads);
            w.WriteStartObject("baseline");
            w.WriteNumber("selection", r.Baseline.Measurement.Score);
            w.WriteNumber("report", r.BaselineReportScore);
            w.WriteEndObject();
            w.WritePropertyName("chosen");
            WriteCandidate(w, r.Chosen, true);
            w.WriteNumber("chosen_report", r.ChosenReportScore);
            if (r.RecoveredReportScore is { } rec)
            {
                w.WriteStartObject("recovery");
                w.WriteNumber("before_report", r.ChosenReportScore);
                w.WriteNumber("after_report", rec);
                w.WritePropertyName("training");
                w.WriteRawValue(r.RecoveryTrainingJson!);
                w.WriteEndObject();
            }
            w.WriteStartArray("candidates");
            foreach (var c in r.Tried) WriteCandidate(w, c, ReferenceEquals(c, r.Chosen));
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteCandidate(Utf8JsonWriter w, Candidate c, bool chosen)
    {
        var m = c.Measurement;
        w.WriteStartObject();
        w.WriteString("precision", m.Point.Precision);
        w.WriteNumber("drop_top", m.Point.DropTop);
        w.WriteNumber("sparsity", m.Point.Sparsity);
        w.WriteNumber("heads", m.Point.Heads);
        w.WriteNumber("ffn", m.Point.Ffn);
        w.WriteNumber("selection", m.Score);
        w.WriteNumber("drop", c.Drop);
        w.WriteBoolean("within_budget", c.WithinBudget);
        w.WriteNumber("p50_ms", Math.Round(m.P50Ms, 3));
        w.WriteNumber("weight_bytes", m.WeightBytes);
        w.WriteString("bytes_kind", m.BytesKind);
        w.WriteBoolean("chosen", chosen);
        w.WriteEndObject();
    }

    public static string Markdown(AutoCompressResult r)
    {
        string metric = r.Args.Task.PrimaryMetric();
        var md = new StringBuilder($"# autocompress: {Path.GetFileName(Path.GetFullPath(r.Args.Model).TrimEnd(Path.DirectorySeparatorChar))} on {r.Args.Task.Name()}\n\n");
        md.Append(F($"- objective: {r.Objective.ToString().ToLowerInvariant()}, budget: {metric} may drop at most {r.MaxDrop:0.##} points on the selection half\n"));
        md.Append($"- data `{r.Args.Data}`: {Split} ({r.SelectionCount} / {r.ReportCount} examples)\n");
        md.Append("- search: greedy, one axis at a time (precision, drop-top, heads, ffn, sparsity), mild to aggressive, keeping the most aggressive level within budget and stopping an axis at its first failure; choice: best objective within budget, ties (equal bytes, latency within 5 %) to the candidate tried first (least transformed)\n");
        md.Append(F($"- chosen: **{r.Chosen.Point.Label}**: {metric} {r.ChosenReportScore:0.00} on the report half (baseline {r.BaselineReportScore:0.00}); selection half {r.Chosen.Measurement.Score:0.00} (baseline {r.Baseline.Measurement.Score:0.00})\n"));
        if (r.RecoveredReportScore is { } rec)
            md.Append(F($"- recovery (distillation from the original, `--recover`): {metric} on the report half {r.ChosenReportScore:0.00} -> **{rec:0.00}**; the folder before recovery is `{RecoverySettings.BeforeFolder}/`\n"));
        md.Append(F($"- latency: p50 of batch-1 calls on the first {r.Chosen.Measurement.LatencySentences} selection examples, {r.Args.Threads} thread(s)\n\n"));
        md.Append($"| # | precision | drop-top | sparsity | heads | ffn | {metric} (selection) | drop | within budget | p50 (ms) | weight bytes | bytes | chosen |\n");
        md.Append("|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|\n");
        for (int i = 0; i < r.Tried.Count; i++)
        {
            var c = r.Tried[i];
            var m = c.Measurement;
            md.Append(F($"| {i + 1} | {m.Point.Precision} | {m.Point.DropTop} | {m.Point.Sparsity:0.###} | {m.Point.Heads:0.###} | {m.Point.Ffn:0.###} | {m.Score:0.00} | {c.Drop:0.00} | {(c.WithinBudget ? "yes" : "no")} | {m.P50Ms:0.000} | {m.WeightBytes:N0} | {m.BytesKind} | {(ReferenceEquals(c, r.Chosen) ? "**yes**" : "")} |\n"));
        }
        return md.ToString();
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
