using NativeTransformer.Training;

namespace NativeTransformer.Tests.Training;

/// <summary>The objective's text form: what parses, what each part means, and a typed error naming the bad part.</summary>
public sealed class TrainingObjectiveTests
{
    [Fact]
    public void ParsesWeightsNamesAndLayerMaps()
    {
        var o = TrainingObjective.Parse(" 0.5*kl , 0.5*ce,hidden-mse(0:0, 1:2;2:4),embedding-cosine", temperature: 4);
        Assert.Equal(4, o.Temperature);
        Assert.Equal([ObjectiveTermKind.Distillation, ObjectiveTermKind.CrossEntropy, ObjectiveTermKind.HiddenMse, ObjectiveTermKind.EmbeddingCosine],
            o.Terms.Select(t => t.Kind));
        Assert.Equal([0.5, 0.5, 1, 1], o.Terms.Select(t => t.Weight));
        Assert.Equal([(0, 0), (1, 2), (2, 4)], o.Terms[2].LayerMap!);
        Assert.Equal("0.5*kl,0.5*ce,hidden-mse(0:0,1:2,2:4),embedding-cosine", o.ToString());
        Assert.True(o.NeedsTeacher); Assert.True(o.NeedsLabels);
        Assert.Equal(ObjectiveTermKind.Distillation, TrainingObjective.Parse("kd").Terms[0].Kind);
        Assert.False(TrainingObjective.Parse("ce").NeedsTeacher);
    }

    [Theory]
    [InlineData("", "empty term")]
    [InlineData("ce,", "empty term")]
    [InlineData("mse", "unknown loss 'mse'")]
    [InlineData("x*ce", "weight 'x'")]
    [InlineData("-1*ce", "positive")]
    [InlineData("0*ce", "positive")]
    [InlineData("ce,0.5*ce", "twice")]
    [InlineData("kl(1:2)", "only hidden-mse")]
    [InlineData("hidden-mse(1-2)", "STUDENT:TEACHER")]
    [InlineData("hidden-mse(1:2", "parentheses")]
    public void RefusesMalformedObjectives(string text, string expected)
    {
        var e = Assert.Throws<InputException>(() => TrainingObjective.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void DefaultLayerMapIsUniformAndOutOfRangePairsAreRefused()
    {
        var student = TinyTrainingModels.Create("bert", 8, 2, seed: 31);
        var teacher = TinyTrainingModels.Create("bert", 12, 4, seed: 32);
        var term = TrainingObjective.Parse("hidden-mse").Terms[0];
        Assert.Equal([(0, 0), (1, 2), (2, 4)], TrainingObjective.LayerMapFor(term, student, teacher));
        var bad = TrainingObjective.Parse("hidden-mse(3:1)").Terms[0];
        Assert.Contains("out of range", Assert.Throws<InputException>(() => TrainingObjective.LayerMapFor(bad, student, teacher)).Message);
        // Different widths: the projection exists (and only then), named apart from the student's checkpoint keys.
        var extra = TrainingObjective.Parse("hidden-mse").CreateParameters(student, teacher, seed: 1);
        Assert.Equal([TrainingObjective.ProjectionWeight, TrainingObjective.ProjectionBias], extra.All.Select(p => p.Name));
        Assert.Equal([12L, 8L], extra[TrainingObjective.ProjectionWeight].Shape);
        Assert.Empty(TrainingObjective.Parse("hidden-mse").CreateParameters(student, student, seed: 1).All);
        // Saved apart from the student and read back exactly.
        string path = Path.Combine(Path.GetTempPath(), $"ntr-projection-{Environment.ProcessId}.safetensors");
        try
        {
            extra.Save(path);
            var again = TrainingObjective.Parse("hidden-mse").CreateParameters(student, teacher, seed: 2);
            Assert.NotEqual(extra[TrainingObjective.ProjectionWeight].Values, again[TrainingObjective.ProjectionWeight].Values);
            again.LoadValuesFrom(path);
            foreach (var p in extra.All) Assert.Equal(p.Values, again[p.Name].Values);
        }
        finally { File.Delete(path); }
        Assert.Throws<InputException>(() => GradientComputation.Compute(student, TinyTrainingModels.Batch(student),
            TrainingObjective.Parse("hidden-mse"), teacher, new ParameterSet(), threads: 1));
    }

    [Fact]
    public void TheOneCallFormChecksThePairAndEqualsTheLibraryCall()
    {
        var student = TinyTrainingModels.Create("distilbert", 8, 2, seed: 41);
        var wide = TinyTrainingModels.Create("bert", 12, 2, seed: 42);
        var objective = TrainingObjective.Parse("0.5*kl,ce,hidden-mse");
        Assert.Contains("needs a teacher", Assert.Throws<InputException>(() => objective.Check(student, null)).Message);
        Assert.Contains("equal widths", Assert.Throws<InputException>(() => TrainingObjective.Parse("embedding-cosine").Check(student, wide)).Message);
        objective.Check(student, wide);
        Assert.Equal(2, objective.Parameters.All.Count);
        var batch = TinyTrainingModels.Batch(student);
        var grads = student.Parameters.ZerosLike();
        double loss = objective.Compute(student, wide, batch, grads, threads: 2);
        var direct = GradientComputation.Compute(student, batch, objective, wide, objective.Parameters, threads: 2);
        Assert.Equal(direct.Loss, loss);
        foreach (var g in direct.Gradients.All) Assert.Equal(g.Values, grads[g.Name].Values);
        foreach (var g in direct.ObjectiveGradients.All) Assert.Equal(g.Values, objective.ParameterGradients[g.Name].Values);
    }
}
