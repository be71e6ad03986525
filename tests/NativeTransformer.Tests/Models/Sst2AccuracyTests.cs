using System.Text.Json;
using NativeTransformer.Tests.Cli;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>`ntr eval --task sst2` on SST-2 dev reproduces every shared classifier's PyTorch fp32 accuracy (REFERENCE_ACCURACY.json) within 0.2 points.</summary>
public class Sst2AccuracyTests(ITestOutputHelper output)
{
    public static TheoryData<string> Classifiers() => ["bert-tiny-sst2", "bert-mini-sst2", "distilbert-mini-sst2", "albert-mini-sst2",
        "roberta-mini-sst2", "xlmr-mini-sst2", "albert-spm-mini-sst2", "mobilebert-mini-sst2",
        "t5-encoder-mini-sst2", "longformer-mini"];

    [Theory, MemberData(nameof(Classifiers))]
    public void NtrEvalMatchesReferenceAccuracy(string name)
    {
        double accuracy = NtrEvalSst2(name);
        double expected = ReferenceAccuracy(name, "sst2_dev_accuracy_fp32");
        output.WriteLine($"{name}: accuracy {accuracy:F2} (PyTorch fp32 {expected:F2})");
        Assert.InRange(accuracy, expected - 0.2, expected + 0.2);
    }

    /// <summary>Runs `ntr eval --task sst2` on the dev set (plus <paramref name="extra"/> options) and returns the accuracy in percent.</summary>
    internal static double NtrEvalSst2(string model, params string[] extra)
    {
        var run = CliRunner.Run(["eval", "--model", TestPaths.Model(model), "--task", "sst2", "--data", TestPaths.Data("sst2", "dev.tsv"), "--threads", "2", .. extra]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr); // not a terminal: no progress output
        using var result = JsonDocument.Parse(Assert.Single(run.StdoutLines));
        Assert.Equal("sst2", result.RootElement.GetProperty("task").GetString());
        Assert.Equal(872, result.RootElement.GetProperty("n").GetInt32());
        return result.RootElement.GetProperty("accuracy").GetDouble();
    }

    /// <summary>A figure from the model folder's REFERENCE_ACCURACY.json.</summary>
    internal static double ReferenceAccuracy(string model, string key)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Model(model), "REFERENCE_ACCURACY.json")));
        return doc.RootElement.GetProperty(key).GetDouble();
    }
}
