using System.Globalization;
using System.Text.Json;
using NativeTransformer.Evaluation;
using NativeTransformer.Tests.Cli;
using NativeTransformer.WeightsTools.Reports;
using NativeTransformer.WeightsTools.Sweep;

namespace NativeTransformer.Tests.WeightsTools;

/// <summary>`weights-tools sweep` on bert-tiny-sst2 and the first 40 SST-2 dev sentences.</summary>
public sealed class SweepTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private string Model => TestPaths.Model("bert-tiny-sst2");

    private string Subset(int lines)
    {
        var all = File.ReadAllLines(TestPaths.Data("sst2", "dev.tsv"));
        return _tmp.Write("dev-subset.tsv", string.Join("\n", all.Take(lines + 1)) + "\n");
    }

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void SweepWritesEveryCombinationAndItsBaselineEqualsNtrEval()
    {
        string data = Subset(40), output = _tmp.File("sweep");
        var run = MakeRandomRun.Run("sweep", "--model", Model, "--task", "sst2", "--data", data,
            "--sparsity", "0,0.5", "--precision", "fp32,int8", "--drop-top", "0,1", "--output", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(8, run.Stderr.Split('\n').Count(l => l.StartsWith("sweep [", StringComparison.Ordinal))); // progress

        var lines = File.ReadAllLines(Path.Combine(output, SweepReport.CsvFile));
        Assert.Equal(SweepReport.CsvHeader("accuracy"), lines[0]);
        Assert.Equal(9, lines.Length);
        string[] columns = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.All(rows, r => Assert.Equal(columns.Length, r.Length));
        string Col(string[] r, string name) => r[Array.IndexOf(columns, name)];
        Assert.Equal(8, rows.Select(r => $"{Col(r, "precision")}/{Col(r, "drop_top")}/{Col(r, "sparsity")}").Distinct().Count());
        foreach (var r in rows)
        {
            Assert.InRange(double.Parse(Col(r, "accuracy"), CultureInfo.InvariantCulture), 0, 100);
            Assert.True(double.Parse(Col(r, "p50_ms"), CultureInfo.InvariantCulture) > 0);
            Assert.Equal("40", Col(r, "latency_sentences"));
            Assert.Equal(WeightBytes.Kind, Col(r, "bytes_kind"));
        }
        // Bytes: fp32 without dropping equals the checkpoint's tensor bytes; dropping a layer or int8 makes it smaller.
        long Bytes(string p, string d, string s) => long.Parse(Col(rows.Single(r => Col(r, "precision") == p && Col(r, "drop_top") == d && Col(r, "sparsity") == s), "weight_bytes"));
        Assert.Equal(TransformerModel.Inspect(Model).WeightBytes, Bytes("fp32", "0", "0"));
        Assert.True(Bytes("fp32", "1", "0") < Bytes("fp32", "0", "0"));
        Assert.True(Bytes("int8", "0", "0") < Bytes("fp32", "0", "0"));
        Assert.Equal(Bytes("fp32", "0", "0"), Bytes("fp32", "0", "0.5")); // dense storage

        foreach (var f in new[] { SweepReport.MarkdownFile, SweepReport.SparsityPlot, SweepReport.LatencyPlot, SweepReport.BytesPlot })
            Assert.True(new FileInfo(Path.Combine(output, f)).Length > 100, f);
        Assert.Contains("| fp32 | 0 | 0 |", File.ReadAllText(Path.Combine(output, SweepReport.MarkdownFile)));

        var eval = CliRunner.Run("eval", "--model", Model, "--task", "sst2", "--data", data, "--threads", "1");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        using var json = JsonDocument.Parse(eval.Stdout);
        var baseline = rows.Single(r => Col(r, "precision") == "fp32" && Col(r, "drop_top") == "0" && Col(r, "sparsity") == "0");
        Assert.Equal(json.RootElement.GetProperty("accuracy").GetDouble(), double.Parse(Col(baseline, "accuracy"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public void StructuredAxisShrinksTheModel()
    {
        string output = _tmp.File("s");
        var run = MakeRandomRun.Run("sweep", "--model", Model, "--task", "sst2", "--data", Subset(8), "--sparsity", "0",
            "--precision", "fp32", "--heads", "0,0.5", "--ffn", "0,0.5", "--output", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = File.ReadAllLines(Path.Combine(output, SweepReport.CsvFile));
        string[] columns = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(4, rows.Count);
        long Bytes(string heads, string ffn) => long.Parse(rows.Single(r => r[Array.IndexOf(columns, "heads")] == heads && r[Array.IndexOf(columns, "ffn")] == ffn)[Array.IndexOf(columns, "weight_bytes")], CultureInfo.InvariantCulture);
        Assert.True(Bytes("0.5", "0") < Bytes("0", "0"));
        Assert.True(Bytes("0", "0.5") < Bytes("0", "0"));
        Assert.True(Bytes("0.5", "0.5") < Bytes("0", "0.5"));
        StructuredPruningStep.StructuredStep("a", "b", 0, 0); // identity: nothing written, nothing read
    }

    [Theory]
    [InlineData("--sparsity", "0,1", "--sparsity")]
    [InlineData("--sparsity", "0,x", "'x'")]
    [InlineData("--precision", "fp32,fp16", "fp16")]
    [InlineData("--drop-top", "0,2", "the model has 2 layers")]
    [InlineData("--task", "mnli", "unknown task")]
    [InlineData("--threads", "0", "--threads")]
    [InlineData("--heads", "0,-0.1", "--heads")]
    public void BadOptionsAreUsageErrors(string option, string value, string expected)
    {
        string[] args = ["sweep", "--model", Model, "--task", "sst2", "--data", "x.tsv"];
        int i = Array.IndexOf(args, option);
        if (i >= 0) args[i + 1] = value; else args = [.. args, option, value];
        var run = MakeRandomRun.Run(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr);
    }

    [Fact]
    public void MaterializedPointEqualsTheLoadTimeTransforms()
    {
        var point = new SweepPoint("fp32", DropTop: 1, Sparsity: 0.5);
        string folder = _tmp.File("materialized");
        using var engine = new SweepEngine(Model, EvalTask.Sst2);
        engine.Materialize(point, folder);
        string[] texts = ["a gripping , funny film .", "dull and lifeless ."];
        using var written = TransformerModel.Load(folder, new LoadOptions { Threads = 1 });
        using var atLoad = TransformerModel.Load(engine.FolderFor(point), engine.OptionsFor(point));
        Assert.Equal(1, written.Config.NumLayers);
        var x = written.Classify(texts);
        var y = atLoad.Classify(texts);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(y[i].Logits, x[i].Logits);
    }
}
