using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.RealModels;

/// <summary>
/// <c>ntr eval --task stsb</c> on STS-B test (1,379 pairs, 2,758 sentences) reproduces the reference Spearman of the real
/// models to 2 decimals in fp32 (= the published MTEB figure for all-MiniLM-L6-v2), and stays within 0.3 points with --int8.
/// The max length is the folder's own: sentence_bert_config.json's max_seq_length (MiniLM 256, arctic 512), as the reference.
/// </summary>
[Collection(RealModelsCollection.Name)]
public class RealModelStsbTests(RealModelsFixture models, ITestOutputHelper output)
{
    private static readonly string Data = TestPaths.Data("stsbenchmark", "sts-test.csv");

    [Theory]
    [InlineData(RealModelsFixture.MiniLm, 256)]
    [InlineData(RealModelsFixture.Arctic, 512)]
    public void StsbTestSpearmanMatchesTheReference(string name, int maxLength)
    {
        var reference = models.Scores.GetProperty(name).GetProperty("stsb_test");
        Assert.Equal(maxLength, reference.GetProperty("max_length").GetInt32());
        using (var model = TransformerModel.Load(models.Dir(name))) Assert.Equal(maxLength, model.MaxLength);
        double expected = Math.Round(100 * reference.GetProperty("cosine_spearman").GetDouble(), 2);

        var fp32 = Eval(name);
        Assert.Equal(reference.GetProperty("n").GetInt32(), fp32.GetProperty("n").GetInt32());
        Assert.Equal(expected, fp32.GetProperty("spearman").GetDouble());

        var int8 = Eval(name, "--int8");
        double drop = expected - int8.GetProperty("spearman").GetDouble();
        Assert.True(Math.Abs(drop) <= 0.3, $"{name}: int8 Spearman {int8.GetProperty("spearman").GetDouble()} vs fp32 {expected}");
    }

    private JsonElement Eval(string name, params string[] extra)
    {
        var sw = Stopwatch.StartNew();
        var run = Cli.CliRunner.Run(["eval", "--task", "stsb", "--data", Data, "--model", models.Dir(name), .. extra]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var doc = JsonDocument.Parse(Assert.Single(run.StdoutLines));
        output.WriteLine($"{name} {string.Join(' ', extra)}: {run.Stdout.Trim()} in {sw.Elapsed.TotalSeconds:F1} s");
        return doc.RootElement.Clone();
    }
}
