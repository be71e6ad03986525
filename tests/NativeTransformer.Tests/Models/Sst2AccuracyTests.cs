using System.Text.Json;
using NativeTransformer.Tests.Cli;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>`ntr eval --task sst2` on SST-2 dev reproduces every shared classifier's PyTorch fp32 accuracy (REFERENCE_ACCURACY.json) within 0.2 points.</summary>
public class Sst2AccuracyTests(ITestOutputHelper output)
{
    public static TheoryData<string> Classifiers() => ["bert-tiny-sst2", "bert-mini-sst2", "distilbert-mini-sst2", "albert-mini-sst2"];

    [Theory, MemberData(nameof(Classifiers))]
    public void NtrEvalMatchesReferenceAccuracy(string name)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var run = CliRunner.Run("eval", "--model", TestPaths.Model(name), "--task", "sst2", "--data", TestPaths.Data("sst2", "dev.tsv"), "--threads", "2");
        watch.Stop();
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr); // not a terminal: no progress output
        using var result = JsonDocument.Parse(Assert.Single(run.StdoutLines));
        Assert.Equal("sst2", result.RootElement.GetProperty("task").GetString());
        Assert.Equal(872, result.RootElement.GetProperty("n").GetInt32());
        double accuracy = result.RootElement.GetProperty("accuracy").GetDouble();

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Model(name), "REFERENCE_ACCURACY.json")));
        double expected = doc.RootElement.GetProperty("sst2_dev_accuracy_fp32").GetDouble();
        output.WriteLine($"{name}: accuracy {accuracy:F2} (PyTorch fp32 {expected:F2}) in {watch.Elapsed.TotalSeconds:F1} s");
        Assert.InRange(accuracy, expected - 0.2, expected + 0.2);
    }
}
