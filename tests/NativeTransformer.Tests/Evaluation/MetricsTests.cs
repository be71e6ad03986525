using NativeTransformer.Cli.Commands;
using NativeTransformer.Evaluation;

namespace NativeTransformer.Tests.Evaluation;

public class MetricsTests
{
    [Theory]
    [InlineData(706, 872, 80.96)]
    [InlineData(708, 872, 81.19)]
    [InlineData(872, 872, 100.0)]
    [InlineData(0, 872, 0.0)]
    [InlineData(1, 3, 33.33)]
    [InlineData(2, 3, 66.67)]
    public void AccuracyIsAPercentageWithTwoDecimals(int correct, int n, double expected) =>
        Assert.Equal(expected, Metrics.Percent(correct, n));

    [Fact]
    public void AccuracyCountsMatches() => Assert.Equal(0.6, Metrics.Accuracy([1, 0, 1, 1, 0], [1, 1, 1, 0, 0]), 12);

    [Fact]
    public void F1OfThePositiveClass()
    {
        // TP = 2 (rows 0, 2), FP = 1 (row 3), FN = 1 (row 1): precision 2/3, recall 2/3, F1 = 4/6.
        Assert.Equal(2.0 / 3, Metrics.F1([1, 0, 1, 1, 0], [1, 1, 1, 0, 0]), 12);
        // TP = 1, FP = 0, FN = 2: precision 1, recall 1/3, F1 = 2/(2+2) = 0.5.
        Assert.Equal(0.5, Metrics.F1([1, 0, 0], [1, 1, 1]), 12);
    }

    [Fact]
    public void F1EdgeCases()
    {
        Assert.Equal(0, Metrics.F1([0, 0, 0], [0, 0, 0]));      // no positive anywhere: 0, as scikit-learn
        Assert.Equal(0, Metrics.F1([0, 0, 0], [1, 0, 1]));      // nothing predicted positive
        Assert.Equal(0, Metrics.F1([1, 1, 0], [0, 0, 0]));      // no gold positive
        Assert.Equal(1, Metrics.F1([1, 0, 1], [1, 0, 1]));
        Assert.Equal(2.0 / 3, Metrics.F1([0, 1], [1, 1], positive: 1), 12); // TP 1, FN 1
        Assert.Equal(1, Metrics.F1([0, 1], [0, 1], positive: 0));
    }

    [Fact]
    public void RanksAverageTies() =>
        Assert.Equal([1, 2.5, 2.5, 4, 6, 6, 6], Metrics.Ranks([1, 3, 3, 7, 9, 9, 9]).OrderBy(r => r));

    [Fact]
    public void RanksFollowTheInputOrder() => Assert.Equal([3, 1.5, 1.5, 4], Metrics.Ranks([5, 2, 2, 8]));

    [Fact]
    public void SpearmanWithTiesMatchesTheHandComputedValue()
    {
        // x = [1, 2, 2, 3] -> ranks [1, 2.5, 2.5, 4]; y = [1, 3, 2, 4] -> ranks [1, 3, 2, 4].
        // Centered (mean 2.5): dx = [-1.5, 0, 0, 1.5], dy = [-1.5, 0.5, -0.5, 1.5].
        // sum dx·dy = 4.5, sum dx² = 4.5, sum dy² = 5 -> rho = 4.5 / sqrt(22.5) = 0.948683298...
        Assert.Equal(4.5 / Math.Sqrt(22.5), Metrics.Spearman([1, 2, 2, 3], [1, 3, 2, 4]), 12);
        Assert.Equal(0.9486832980505138, Metrics.Spearman([1, 2, 2, 3], [1, 3, 2, 4]), 12);
    }

    [Fact]
    public void SpearmanIsRankBased()
    {
        Assert.Equal(1, Metrics.Spearman([1, 2, 3, 4], [1, 8, 27, 1000]), 12);
        Assert.Equal(-1, Metrics.Spearman([1, 2, 3, 4], [9, 5, 2, -7]), 12);
    }

    [Fact]
    public void PearsonMatchesTheHandComputedValue()
    {
        // x = [1, 2, 3], y = [2, 4, 5]: dx = [-1, 0, 1], dy = [-5/3, 1/3, 4/3]; sxy = 3, sxx = 2, syy = 42/9.
        Assert.Equal(3 / Math.Sqrt(2 * 42.0 / 9), Metrics.Pearson([1, 2, 3], [2, 4, 5]), 12);
    }

    [Fact]
    public void ConstantSeriesCorrelateZero()
    {
        Assert.Equal(0, Metrics.Pearson([1, 1, 1], [1, 2, 3]));
        Assert.Equal(0, Metrics.Spearman([1, 2, 3], [4, 4, 4]));
    }

    [Fact]
    public void CosineOfKnownVectors()
    {
        Assert.Equal(0, Metrics.Cosine([1f, 0f], [0f, 2f]), 12);
        Assert.Equal(-1, Metrics.Cosine([1f, 2f], [-2f, -4f]), 12);
        Assert.Equal(0, Metrics.Cosine([0f, 0f], [1f, 2f]));
    }

    [Fact]
    public void ResultsAreOneJsonObject()
    {
        var sw = new StringWriter();
        EvalCommand.WriteResult(sw, new EvalResult(EvalTask.Sst2, 872, Correct: 706));
        Assert.Equal("{\"task\":\"sst2\",\"n\":872,\"accuracy\":80.96}\n", sw.ToString());
        sw = new StringWriter();
        EvalCommand.WriteResult(sw, new EvalResult(EvalTask.Mrpc, 408, Correct: 279, F1: 0.81234));
        Assert.Equal("{\"task\":\"mrpc\",\"n\":408,\"accuracy\":68.38,\"f1\":81.23}\n", sw.ToString());
        sw = new StringWriter();
        EvalCommand.WriteResult(sw, new EvalResult(EvalTask.Stsb, 1500, Spearman: 0.123456, Pearson: -0.5));
        Assert.Equal("{\"task\":\"stsb\",\"n\":1500,\"spearman\":12.35,\"pearson\":-50}\n", sw.ToString());
    }

    [Fact]
    public void ProgressLineFillsTheBar()
    {
        Assert.Equal("\rsst2 [------------------------] 0/10", EvalCommand.ProgressLine("sst2", 0, 10));
        Assert.Equal("\rsst2 [############------------] 5/10", EvalCommand.ProgressLine("sst2", 5, 10));
        Assert.Equal("\rsst2 [########################] 10/10", EvalCommand.ProgressLine("sst2", 10, 10));
    }
}
