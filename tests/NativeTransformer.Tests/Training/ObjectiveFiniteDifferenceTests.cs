using NativeTransformer.Training;

namespace NativeTransformer.Tests.Training;

/// <summary>
/// The whole training model and every objective term against central differences (h = 1e-5) of an independent float64
/// forward (<see cref="Float64EncoderOracle"/>), on tiny random models of each family (fixed seeds): for sampled entries of
/// every parameter (word rows: the batch's ids) and of the hidden projection, max|analytic − numeric| ≤ 1e-3·max|numeric|
/// overall and per tensor ≤ 1e-2·its own max + 1e-4·the overall max; the loss itself within 1e-5 relative of the oracle's.
/// </summary>
public sealed class ObjectiveFiniteDifferenceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const double H = 1e-5;

    private static readonly Lazy<BertTrainingModel> WideTeacher = new(() => TinyTrainingModels.Create("bert", 12, 4, seed: 101));
    private static readonly Lazy<BertTrainingModel> SameWidthTeacher = new(() => TinyTrainingModels.Create("bert", 8, 3, seed: 102));

    [Theory]
    [InlineData("ce", false)]
    [InlineData("kl", false)]
    [InlineData("hidden-mse", true)]                 // 8 → 12: the learned projection, default map 0:0, 1:2, 2:4
    [InlineData("hidden-mse(0:0,2:3)", false)]       // equal widths, explicit map
    [InlineData("embedding-mse", false)]
    [InlineData("embedding-cosine", false)]
    [InlineData("0.5*kl,0.3*ce,2*hidden-mse(1:2;2:3),embedding-cosine", false)]
    public void EveryTermMatchesFiniteDifferences(string objectiveText, bool wideTeacher)
    {
        var student = TinyTrainingModels.Create("bert", 8, 2, seed: 7);
        var teacher = wideTeacher ? WideTeacher.Value : SameWidthTeacher.Value;
        if (objectiveText.Contains("embedding") && wideTeacher) throw new InvalidOperationException("embedding terms need equal widths");
        Check(student, TrainingObjective.Parse(objectiveText, temperature: 2), teacher, dropout: null);
    }

    [Theory]
    [InlineData("bert")]
    [InlineData("distilbert")]
    [InlineData("roberta")]
    [InlineData("albert")]
    public void EveryFamilyMatchesFiniteDifferences(string family)
    {
        // ALBERT: 3 layers on one shared group, so its layer gradients are sums over three uses.
        var student = TinyTrainingModels.Create(family, 8, family == "albert" ? 3 : 2, seed: 11);
        Check(student, TrainingObjective.Parse("ce,0.5*kl,hidden-mse"), WideTeacher.Value, dropout: null);
    }

    [Theory]
    [InlineData("bert")]
    [InlineData("distilbert")]
    [InlineData("roberta")]
    [InlineData("albert")]
    public void DropoutGradientsMatchFiniteDifferencesWithTheSameMask(string family)
    {
        var student = TinyTrainingModels.Create(family, 8, 2, seed: 13);
        Check(student, TrainingObjective.Parse("ce,embedding-cosine"), SameWidthTeacher.Value, new DropoutOptions(0.2, 0.25, Seed: 42, Step: 3));
    }

    private void Check(BertTrainingModel student, TrainingObjective objective, BertTrainingModel teacher, DropoutOptions? dropout)
    {
        var batch = TinyTrainingModels.Batch(student);
        var extra = objective.CreateParameters(student, teacher, seed: 3);
        var result = GradientComputation.Compute(student, batch, objective, teacher, extra, threads: 2, dropout);
        var teacherTape = teacher.Forward(batch, threads: 1);
        var oracle = TinyTrainingModels.Oracle(student);

        var values = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var p in student.Parameters.All.Concat(extra.All)) values[p.Name] = p.Values.Select(v => (double)v).ToArray();
        double Loss()
        {
            var o = oracle.Forward(values, batch, dropout);
            double total = 0;
            foreach (var term in objective.Terms)
            {
                double v = term.Kind switch
                {
                    ObjectiveTermKind.CrossEntropy => Float64EncoderOracle.CrossEntropy(o.Logits, batch.Labels!, student.Labels),
                    ObjectiveTermKind.Distillation => Float64EncoderOracle.Kl(o.Logits, teacherTape.Logits, objective.Temperature, batch.Batch, student.Labels),
                    ObjectiveTermKind.HiddenMse => TrainingObjective.LayerMapFor(term, student, teacher).Average(pair =>
                        Float64EncoderOracle.HiddenMse(o.HiddenStates[pair.Student], teacherTape.HiddenState(pair.Teacher), batch.AttentionMask,
                            values.GetValueOrDefault(TrainingObjective.ProjectionWeight), values.GetValueOrDefault(TrainingObjective.ProjectionBias))),
                    _ => EmbeddingTerm(term.Kind, o.HiddenStates[^1], teacherTape.Hidden, batch),
                };
                total += term.Weight * v;
            }
            return total;
        }

        double oracleLoss = Loss();
        Assert.True(Math.Abs(result.Loss - oracleLoss) <= 1e-5 * Math.Abs(oracleLoss), $"loss {result.Loss} vs float64 {oracleLoss}");
        var rng = new Random(17);
        var inBatch = batch.InputIds.Distinct().ToArray();
        var perTensor = new List<(string Name, double MaxDiff, double MaxNum)>();
        var gradients = result.Gradients.All.Concat(result.ObjectiveGradients.All).ToList();
        Assert.Equal(extra.All.Count > 0, objective.Terms.Any(t => t.Kind == ObjectiveTermKind.HiddenMse) && teacher.Config.HiddenSize != student.Config.HiddenSize);
        foreach (var g in gradients)
        {
            var x = values[g.Name];
            int width = g.Shape.Length == 2 ? (int)g.Shape[1] : 1;
            bool word = g.Name.EndsWith("word_embeddings.weight", StringComparison.Ordinal);
            var indices = Enumerable.Range(0, 6).Select(_ => word ? inBatch[rng.Next(inBatch.Length)] * width + rng.Next(width) : rng.Next(x.Length)).Distinct();
            double maxDiff = 0, maxNum = 0;
            foreach (int i in indices)
            {
                double keep = x[i];
                x[i] = keep + H; double up = Loss();
                x[i] = keep - H; double down = Loss();
                x[i] = keep;
                double numeric = (up - down) / (2 * H);
                maxDiff = Math.Max(maxDiff, Math.Abs(numeric - g.Values[i]));
                maxNum = Math.Max(maxNum, Math.Abs(numeric));
            }
            perTensor.Add((g.Name, maxDiff, maxNum));
        }
        double globalDiff = perTensor.Max(p => p.MaxDiff), globalNum = perTensor.Max(p => p.MaxNum);
        output.WriteLine($"{student.Config.ModelType} '{objective}'{(dropout is null ? "" : " dropout")}: loss {result.Loss:R}, {perTensor.Count} tensors, max|diff| {globalDiff:G3} vs max|grad| {globalNum:G3}");
        Assert.True(globalNum > 1e-3, "degenerate check");
        Assert.True(globalDiff <= 1e-3 * globalNum, $"max|diff| {globalDiff} vs max|grad| {globalNum}");
        foreach (var (name, d, n) in perTensor)
            Assert.True(d <= 1e-2 * n + 1e-4 * globalNum, $"{name}: max|diff| {d} vs its max|grad| {n}");
    }

    private static double EmbeddingTerm(ObjectiveTermKind kind, double[] studentHidden, float[] teacherHidden, TrainingBatch batch)
    {
        var s = Float64EncoderOracle.Pool(studentHidden, batch.AttentionMask, batch.Batch, batch.Seq);
        var t = Float64EncoderOracle.Pool(teacherHidden.Select(v => (double)v).ToArray(), batch.AttentionMask, batch.Batch, batch.Seq);
        return kind == ObjectiveTermKind.EmbeddingMse ? Float64EncoderOracle.Mse(s, t) : Float64EncoderOracle.CosineDistance(s, t, batch.Batch);
    }
}
