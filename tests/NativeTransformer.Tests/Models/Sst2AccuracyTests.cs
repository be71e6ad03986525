using System.Text.Json;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>SST-2 dev accuracy of every shared classifier equals its PyTorch fp32 figure (REFERENCE_ACCURACY.json) within 0.2 points.</summary>
public class Sst2AccuracyTests(ITestOutputHelper output)
{
    public static TheoryData<string> Classifiers() => ["bert-tiny-sst2", "bert-mini-sst2", "distilbert-mini-sst2", "albert-mini-sst2"];

    [Theory, MemberData(nameof(Classifiers))]
    public void DevAccuracyMatchesReference(string name)
    {
        var rows = File.ReadLines(TestPaths.Data("sst2", "dev.tsv")).Skip(1).Select(l => l.Split('\t')).ToArray();
        using var model = TransformerModel.Load(TestPaths.Model(name), new LoadOptions { Threads = 2 });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var predictions = model.Classify(rows.Select(r => new TextInput(r[0])).ToArray());
        watch.Stop();
        double accuracy = 100.0 * rows.Where((r, i) => predictions[i].LabelId == int.Parse(r[1])).Count() / rows.Length;

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Model(name), "REFERENCE_ACCURACY.json")));
        double expected = doc.RootElement.GetProperty("sst2_dev_accuracy_fp32").GetDouble();
        output.WriteLine($"{name}: accuracy {accuracy:F2} (reference {expected:F2}) on {rows.Length} rows in {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(872, rows.Length);
        Assert.InRange(accuracy, expected - 0.2, expected + 0.2);
    }
}
