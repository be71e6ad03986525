using System.Text.Json;
using NativeTransformer.Evaluation;
using NativeTransformer.Tests.Cli;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Evaluation;

/// <summary>`ntr eval` on the new tasks, end to end on the shared dev sets with the 2-layer models.</summary>
public class EvalEndToEndTests(ITestOutputHelper output)
{
    private static JsonElement Eval(string model, string task, string data)
    {
        var run = CliRunner.Run("eval", "--model", TestPaths.Model(model), "--task", task, "--data", data, "--threads", "2");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr); // not a terminal: no progress
        using var doc = JsonDocument.Parse(Assert.Single(run.StdoutLines));
        Assert.Equal(task, doc.RootElement.GetProperty("task").GetString());
        return doc.RootElement.Clone();
    }

    [Fact]
    public void MrpcOnAnSst2ClassifierRunsAndIsDeterministic()
    {
        string data = TestPaths.Data("mrpc", "dev.tsv");
        var r = Eval("bert-tiny-sst2", "mrpc", data);
        Assert.Equal(408, r.GetProperty("n").GetInt32());
        double accuracy = r.GetProperty("accuracy").GetDouble(), f1 = r.GetProperty("f1").GetDouble();
        output.WriteLine($"bert-tiny-sst2 mrpc: accuracy {accuracy}, f1 {f1}");
        Assert.InRange(accuracy, 0, 100);
        Assert.InRange(f1, 0, 100);
        Assert.Equal(r.GetRawText(), Eval("bert-tiny-sst2", "mrpc", data).GetRawText());

        // The library gives the same figures as the command (pairs classified as pairs).
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"), new LoadOptions { Threads = 2 });
        int calls = 0;
        var lib = Evaluator.Evaluate(model, EvalTask.Mrpc, TaskDataReader.ReadFile(EvalTask.Mrpc, data), 100, (done, total) =>
        {
            calls++;
            Assert.Equal(408, total);
            Assert.Equal(Math.Min(408, calls * 100), done);
        });
        Assert.Equal(5, calls);
        Assert.Equal(accuracy, lib.AccuracyPercent);
        Assert.Equal(f1, lib.F1Percent);
        // Classifying the pairs as single texts (the first sentence only) must give other predictions: the pair is used.
        var firstOnly = model.Classify(TaskDataReader.ReadFile(EvalTask.Mrpc, data).Select(e => new TextInput(e.Text)).ToArray());
        var pairs = model.Classify(TaskDataReader.ReadFile(EvalTask.Mrpc, data).Select(e => e.Input).ToArray());
        Assert.NotEqual(firstOnly.Select(c => c.LabelId), pairs.Select(c => c.LabelId));
    }

    [Fact]
    public void StsbOnAMaskedLmRunsAndIsDeterministic()
    {
        string data = TestPaths.Data("stsbenchmark", "sts-dev.csv");
        var r = Eval("bert-tiny-mlm", "stsb", data);
        Assert.Equal(1500, r.GetProperty("n").GetInt32());
        double spearman = r.GetProperty("spearman").GetDouble(), pearson = r.GetProperty("pearson").GetDouble();
        output.WriteLine($"bert-tiny-mlm stsb: spearman {spearman}, pearson {pearson}");
        // Mean-pooled embeddings of a masked LM trained on these sentences carry real similarity signal.
        Assert.InRange(spearman, 5, 100);
        Assert.InRange(pearson, -100, 100);
        Assert.Equal(r.GetRawText(), Eval("bert-tiny-mlm", "stsb", data).GetRawText());
    }

    [Fact]
    public void ClassifierTasksNeedAClassifierHead()
    {
        CliRunner.Run("eval", "--model", TestPaths.Model("bert-tiny-mlm"), "--task", "mrpc", "--data", TestPaths.Data("mrpc", "dev.tsv"))
            .AssertOneLineError(1, "no sequence-classification head");
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"));
        Assert.Throws<InputException>(() => Evaluator.Evaluate(model, EvalTask.Sst2, [new TaskExample("good", null, 1, 2)]));
    }

    [Fact]
    public void MrpcDataErrorsAreReportedBeforeTheModelLoads()
    {
        using var tmp = new TempDir();
        string bad = tmp.Write("dev.tsv", TaskDataReader.MrpcHeader + "\n1\t1\t2\ta\tb\n1\t1\t2\ta\n");
        CliRunner.Run("eval", "--model", tmp.Path, "--task", "mrpc", "--data", bad).AssertOneLineError(1, "line 3");
        string badStsb = tmp.Write("sts.csv", "g\tf\ty\t1\t9\ta\tb\n");
        CliRunner.Run("eval", "--model", tmp.Path, "--task", "stsb", "--data", badStsb).AssertOneLineError(1, "line 1");
    }
}
