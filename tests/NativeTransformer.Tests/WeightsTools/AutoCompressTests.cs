using System.Text.Json;
using NativeTransformer.Evaluation;
using NativeTransformer.Tests.Cli;
using NativeTransformer.WeightsTools.AutoCompress;
using NativeTransformer.WeightsTools.Sweep;

namespace NativeTransformer.Tests.WeightsTools;

/// <summary>`weights-tools autocompress` on bert-tiny-sst2 with 80 SST-2 dev sentences and a small grid.</summary>
public sealed class AutoCompressTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void SplitAlternatesRows()
    {
        var examples = Enumerable.Range(0, 5).Select(i => new TaskExample($"t{i}", null, i % 2, i + 2)).ToList();
        var (selection, report) = AutoCompressSearch.Split(examples);
        Assert.Equal(["t0", "t2", "t4"], selection.Select(e => e.Text));
        Assert.Equal(["t1", "t3"], report.Select(e => e.Text));
    }

    private static Candidate C(SweepPoint p, long bytes, double ms, bool ok) =>
        new(new SweepMeasurement(p, 80, ms, 100, bytes, "fp32 tensors", 1, 64), ok ? 0 : 5, ok);

    [Fact]
    public void ChoiceIsTheBestObjectiveWithinBudgetTiesToTheLeastTransformed()
    {
        var tried = new List<Candidate>
        {
            C(SweepPoint.Baseline, 100, 1.00, true),
            C(new SweepPoint("int8"), 40, 0.50, true),
            C(new SweepPoint("int8", DropTop: 1), 30, 0.30, false),  // best of all, but over budget
            C(new SweepPoint("int8", Sparsity: 0.5), 40, 0.49, true), // same bytes as int8; latency within 5 %
            C(new SweepPoint("int8", Sparsity: 0.7), 40, 0.40, true),
        };
        Assert.Same(tried[1], AutoCompressSearch.Choose(tried, Objective.Bytes));
        Assert.Same(tried[4], AutoCompressSearch.Choose(tried, Objective.Latency));
        tried.RemoveAt(4);
        Assert.Same(tried[1], AutoCompressSearch.Choose(tried, Objective.Latency));
    }

    [Fact]
    public void ChoosesTheSmallestCandidateWithinBudgetAndWritesIt()
    {
        var all = File.ReadAllLines(TestPaths.Data("sst2", "dev.tsv"));
        string data = _tmp.Write("dev80.tsv", string.Join("\n", all.Take(81)) + "\n");
        string output = _tmp.File("out");
        var run = MakeRandomRun.Run("autocompress", "--model", TestPaths.Model("bert-tiny-sst2"), "--task", "sst2", "--data", data,
            "--max-drop", "1.0", "--sparsity", "0.3,0.6,0.9", "--output", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("autocompress: chose", run.Stdout);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, AutoCompressCommand.ReportName + ".json")));
        var root = doc.RootElement;
        Assert.Equal(40, root.GetProperty("selection_examples").GetInt32());
        Assert.Equal(40, root.GetProperty("report_examples").GetInt32());
        var candidates = root.GetProperty("candidates").EnumerateArray().ToList();
        Assert.True(candidates.Count >= 3); // baseline, int8, drop-top 1, then sparsity levels while within budget
        var chosen = Assert.Single(candidates, c => c.GetProperty("chosen").GetBoolean());
        Assert.True(chosen.GetProperty("within_budget").GetBoolean());
        Assert.True(chosen.GetProperty("drop").GetDouble() <= 1.0);
        long best = candidates.Where(c => c.GetProperty("within_budget").GetBoolean()).Min(c => c.GetProperty("weight_bytes").GetInt64());
        Assert.Equal(best, chosen.GetProperty("weight_bytes").GetInt64());
        // Every over-budget candidate really dropped more than 1 point.
        Assert.All(candidates.Where(c => !c.GetProperty("within_budget").GetBoolean()), c => Assert.True(c.GetProperty("drop").GetDouble() > 1.0));
        Assert.True(File.Exists(Path.Combine(output, AutoCompressCommand.ReportName + ".md")));

        // The written folder loads and reproduces the reported report-half figure.
        string precision = chosen.GetProperty("precision").GetString()!;
        using var model = TransformerModel.Load(output, new LoadOptions { Threads = 1 }); // an int8 choice is an int8 folder
        Assert.Equal(precision == "int8", model.KernelDescription.StartsWith("int8", StringComparison.Ordinal));
        Assert.Equal(2 - chosen.GetProperty("drop_top").GetInt32(), model.Config.NumLayers);
        var (_, report) = AutoCompressSearch.Split(TaskDataReader.ReadFile(EvalTask.Sst2, data));
        Assert.Equal(root.GetProperty("chosen_report").GetDouble(), Evaluator.Evaluate(model, EvalTask.Sst2, report).PrimaryPercent);
    }

    [Theory]
    [InlineData("fp32")]
    [InlineData("int8")]   // trained in fp32 (DIR2/recovery-fp32), then quantized into DIR2
    public void RecoverDistilsTheChoiceAndReportsBeforeAndAfter(string precision)
    {
        var all = File.ReadAllLines(TestPaths.Data("sst2", "dev.tsv"));
        string data = _tmp.Write("dev40.tsv", string.Join("\n", all.Take(41)) + "\n");
        string train = _tmp.Write("train24.tsv", string.Join("\n", File.ReadLines(TestPaths.Data("sst2", "train.tsv")).Take(25)) + "\n");
        string output = _tmp.File("recovered");
        var run = MakeRandomRun.Run("autocompress", "--model", TestPaths.Model("bert-tiny-sst2"), "--task", "sst2", "--data", data,
            "--max-drop", "100", "--precision", precision, "--drop-top", "0", "--ffn", "0", "--sparsity", "0.9", "--threads", "1", "--output", output,
            "--recover", "--recover-data", train, "--recover-batch-size", "8", "--recover-max-length", "32", "--recover-lr", "1e-3");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("autocompress: recovery by distillation", run.Stdout);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, AutoCompressCommand.ReportName + ".json")));
        var recovery = doc.RootElement.GetProperty("recovery");
        Assert.Equal(3, recovery.GetProperty("training").GetProperty("steps").GetInt32()); // 24 examples / 8
        var (_, report) = AutoCompressSearch.Split(TaskDataReader.ReadFile(EvalTask.Sst2, data));
        double Score(string dir)
        {
            using var model = TransformerModel.Load(dir, new LoadOptions { Threads = 1 });
            return Evaluator.Evaluate(model, EvalTask.Sst2, report).PrimaryPercent;
        }
        Assert.Equal(recovery.GetProperty("before_report").GetDouble(), Score(Path.Combine(output, "before-recovery")));
        Assert.Equal(recovery.GetProperty("after_report").GetDouble(), Score(output));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(output, "model.safetensors")), File.ReadAllBytes(Path.Combine(output, "before-recovery", "model.safetensors")));
        Assert.Equal(precision == "int8", Directory.Exists(Path.Combine(output, "recovery-fp32", "checkpoint")));
        Assert.False(Directory.Exists(Path.Combine(output, "recovery-int8")));
        if (precision == "int8") Assert.False(Directory.Exists(Path.Combine(output, "checkpoint")), "the fp32 run's checkpoint was copied into DIR2 as well");
    }

    [Fact]
    public void RecoverOptionsNeedRecover()
    {
        var run = MakeRandomRun.Run("autocompress", "--model", TestPaths.Model("bert-tiny-sst2"), "--task", "sst2", "--data", "d.tsv",
            "--output", _tmp.File("x"), "--recover-minutes", "3");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("go with --recover", run.Stderr);
        run = MakeRandomRun.Run("autocompress", "--model", TestPaths.Model("bert-tiny-sst2"), "--task", "sst2", "--data", "d.tsv",
            "--output", _tmp.File("y"), "--recover");
        Assert.Contains("--recover-data FILE", run.Stderr);
    }

    [Fact]
    public void OutputMustBeNewOrEmpty()
    {
        string output = _tmp.File("full");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "x"), "");
        var run = MakeRandomRun.Run("autocompress", "--model", TestPaths.Model("bert-tiny-sst2"), "--task", "sst2", "--data", "d.tsv", "--output", output);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not empty", run.Stderr);
    }
}
