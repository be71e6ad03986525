using NativeTransformer.Training;

namespace NativeTransformer.Tests.Training;

/// <summary>The seeded dropout's contract: p = 0 is eval mode bit for bit, the mask's drop rate is p, the mask is a function
/// of (seed, step, site, element) only (same bits for 1 and 2 threads; another step or seed gives another mask).
/// Gradients through the mask are checked in <see cref="ObjectiveFiniteDifferenceTests"/>.</summary>
public sealed class DropoutTests
{
    [Fact]
    public void ZeroProbabilityIsBitwiseEvalMode()
    {
        var model = TinyTrainingModels.Create("bert", 8, 2, seed: 21);
        var batch = TinyTrainingModels.Batch(model);
        var objective = TrainingObjective.Parse("ce");
        var eval = GradientComputation.Compute(model, batch, objective, null, new ParameterSet(), threads: 2);
        var zero = GradientComputation.Compute(model, batch, objective, null, new ParameterSet(), threads: 2, new DropoutOptions(0, 0, Seed: 9, Step: 4));
        Assert.Equal(eval.StudentTape.Logits, zero.StudentTape.Logits);
        foreach (var g in eval.Gradients.All) Assert.Equal(g.Values, zero.Gradients[g.Name].Values);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void TheDropRateIsP(double p)
    {
        var d = new DropoutOptions(p, p, Seed: 1234);
        const int n = 200_000;
        var x = Enumerable.Repeat(1f, n).ToArray();
        d.Apply(x, site: 5, p);
        int dropped = x.Count(v => v == 0);
        double sigma = Math.Sqrt(n * p * (1 - p));
        Assert.True(Math.Abs(dropped - n * p) < 5 * sigma, $"dropped {dropped} of {n}, expected {n * p} ± {5 * sigma}");
        Assert.All(x.Where(v => v != 0), v => Assert.Equal((float)(1 / (1 - p)), v));
        // The mean is preserved (inverted dropout).
        Assert.True(Math.Abs(x.Average(v => (double)v) - 1) < 5 * sigma / n / (1 - p));
    }

    [Fact]
    public void TheMaskDependsOnSeedStepAndSiteOnly()
    {
        // With the hidden projection too: its Linear runs on the thread pool.
        var model = TinyTrainingModels.Create("roberta", 8, 2, seed: 22);
        var teacher = TinyTrainingModels.Create("bert", 12, 2, seed: 24);
        var batch = TinyTrainingModels.Batch(model);
        var objective = TrainingObjective.Parse("ce,hidden-mse");
        var extra = objective.CreateParameters(model, teacher, seed: 1);
        var d = new DropoutOptions(0.3, 0.3, Seed: 77, Step: 1);
        var one = GradientComputation.Compute(model, batch, objective, teacher, extra, threads: 1, d);
        var two = GradientComputation.Compute(model, batch, objective, teacher, extra, threads: 2, d);
        Assert.Equal(one.StudentTape.Logits, two.StudentTape.Logits);
        foreach (var g in one.Gradients.All.Concat(one.ObjectiveGradients.All))
            Assert.Equal(g.Values, (g.Name.StartsWith("distill.") ? two.ObjectiveGradients : two.Gradients)[g.Name].Values);
        var nextStep = GradientComputation.Compute(model, batch, objective, teacher, extra, threads: 2, d with { Step = 2 });
        var otherSeed = GradientComputation.Compute(model, batch, objective, teacher, extra, threads: 2, d with { Seed = 78 });
        Assert.NotEqual(one.StudentTape.Logits, nextStep.StudentTape.Logits);
        Assert.NotEqual(one.StudentTape.Logits, otherSeed.StudentTape.Logits);
    }

    [Fact]
    public void ProbabilitiesOutsideTheUnitIntervalAreRefused()
    {
        var model = TinyTrainingModels.Create("bert", 8, 1, seed: 23);
        Assert.Throws<InputException>(() => model.Forward(TinyTrainingModels.Batch(model), 1, new DropoutOptions(1.0, 0, 1)));
        Assert.Throws<InputException>(() => model.Forward(TinyTrainingModels.Batch(model), 1, new DropoutOptions(0.1, -0.1, 1)));
    }
}
