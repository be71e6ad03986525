using NativeTransformer.Tokenization;
using NativeTransformer.Training;
using NativeTransformer.Training.Loop;

namespace NativeTransformer.Tests.Training;

/// <summary>
/// The training loop on a real (small) checkpoint: bitwise determinism across thread counts, an interrupted run resumed
/// to the same bits as an uninterrupted one (dropout on, so the per-step dropout keys are covered too), pruned zeros
/// kept, and a NaN loss stopping before the bad update with the last checkpoint intact.
/// </summary>
public sealed class TrainerTests
{
    private static readonly string Model = TestPaths.Model("bert-tiny-sst2");

    private static List<TrainingExample> Examples(int count) =>
        TrainingData.ReadSst2(TestPaths.Data("sst2", "train.tsv")).Take(count).ToList();

    private static TrainerOptions Options(int threads, string? checkpoint = null) => new()
    {
        Epochs = 2, BatchSize = 8, LearningRate = 1e-3, WarmupRatio = 0.25, Threads = threads, MaxLength = 24, Seed = 7,
        Dropout = 0.1, CheckpointDirectory = checkpoint, CheckpointEverySteps = checkpoint is null ? null : 1,
    };

    private static (BertTrainingModel Model, TrainingSummary Summary) Train(TrainerOptions options, List<TrainingExample> data, bool resume = false,
        Action<BertTrainingModel>? prepare = null, (int, double)? inject = null)
    {
        var model = BertTrainingModel.Load(Model);
        prepare?.Invoke(model);
        var trainer = new Trainer(model, null, TokenizerLoader.FromDirectory(Model), TrainingObjective.Parse("ce"), options) { InjectLoss = inject };
        return (model, trainer.Run(data, resume));
    }

    private static void AssertBitwiseEqual(BertTrainingModel a, BertTrainingModel b)
    {
        foreach (var p in a.Parameters.All)
            Assert.True(p.Values.AsSpan().SequenceEqual(b.Parameters[p.Name].Values), $"{p.Name} differs");
    }

    private static string TempDir() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ntr-trainer-" + Guid.NewGuid().ToString("N"))).FullName;

    [Fact]
    public void OneAndTwoThreadsGiveTheSameBits()
    {
        var data = Examples(20);
        var (one, s1) = Train(Options(1), data);
        var (two, _) = Train(Options(2), data);
        Assert.Equal(6, s1.Steps); // 20 examples / 8 = 3 batches × 2 epochs
        AssertBitwiseEqual(one, two);
        var start = BertTrainingModel.Load(Model);
        Assert.False(start.Parameters.All[^1].Values.AsSpan().SequenceEqual(one.Parameters.All[^1].Values), "training changed nothing");
    }

    [Fact]
    public void AnInterruptedRunResumedEndsWithTheSameBits()
    {
        var data = Examples(20);
        string dir = TempDir();
        try
        {
            var (whole, _) = Train(Options(2), data);
            var (_, first) = Train(Options(2, dir) with { MaxSteps = 4 }, data); // stops mid-epoch 2
            Assert.Equal("max-steps", first.StoppedBy);
            var (resumed, second) = Train(Options(2, dir), data, resume: true);
            Assert.Equal(4, second.ResumedFromStep);
            Assert.Equal(6, second.Steps);
            AssertBitwiseEqual(whole, resumed);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ResumingWithOtherSettingsIsRefused()
    {
        var data = Examples(20);
        string dir = TempDir();
        try
        {
            Train(Options(1, dir) with { MaxSteps = 1 }, data);
            var e = Assert.ThrowsAny<NativeTransformerException>(() => Train(Options(1, dir) with { LearningRate = 2e-3 }, data, resume: true));
            Assert.Contains("checkpoint", e.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void KeepSparsityKeepsPrunedZerosAndWithoutItTheyMove()
    {
        const string key = "bert.encoder.layer.0.attention.self.query.weight";
        static void Prune(BertTrainingModel m)
        {
            var w = m.Parameters[key].Values;
            for (int i = 0; i < w.Length; i += 2) w[i] = 0f;
        }
        var data = Examples(16);
        var (kept, summary) = Train(Options(1) with { KeepSparsity = true, Epochs = 1 }, data, prepare: Prune);
        var (free, _) = Train(Options(1) with { Epochs = 1 }, data, prepare: Prune);
        var wk = kept.Parameters[key].Values;
        var wf = free.Parameters[key].Values;
        Assert.True(summary.FrozenWeights >= wk.Length / 2);
        for (int i = 0; i < wk.Length; i += 2) Assert.Equal(0f, wk[i]);
        Assert.Contains(Enumerable.Range(0, wf.Length / 2), i => wf[2 * i] != 0f);
        Assert.Contains(Enumerable.Range(0, wk.Length / 2), i => wk[2 * i + 1] != BertTrainingModel.Load(Model).Parameters[key].Values[2 * i + 1]);
    }

    [Fact]
    public void ANaNLossStopsBeforeTheUpdateAndKeepsTheLastGoodCheckpoint()
    {
        var data = Examples(20);
        string dir = TempDir();
        try
        {
            var e = Assert.Throws<TrainingDivergedException>(() => Train(Options(1, dir), data, inject: (3, double.NaN)));
            Assert.Equal(3, e.Step);
            Assert.Contains("diverged at step 3", e.Message);
            // The checkpoint is the state after step 2: resuming it with no fault ends like an uninterrupted run.
            var (resumed, s) = Train(Options(1, dir), data, resume: true);
            Assert.Equal(2, s.ResumedFromStep);
            var (whole, _) = Train(Options(1), data);
            AssertBitwiseEqual(whole, resumed);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void EmptyDataAndBadLabelsAreTypedErrors()
    {
        Assert.Throws<InputException>(() => Train(Options(1), []));
        var e = Assert.Throws<InputException>(() => Train(Options(1), [new TrainingExample("fine", null, 5)]));
        Assert.Contains("label", e.Message);
    }

    [Theory]
    // Hugging Face get_linear_schedule_with_warmup, N = 10, W = 3: k/W while k < W, then (N − k)/(N − W).
    [InlineData(0, 0.0)]
    [InlineData(1, 1.0 / 3)]
    [InlineData(2, 2.0 / 3)]
    [InlineData(3, 1.0)]
    [InlineData(4, 6.0 / 7)]
    [InlineData(9, 1.0 / 7)]
    [InlineData(10, 0.0)]
    [InlineData(12, 0.0)]
    public void TheScheduleIsHuggingFacesLinearWarmup(int step, double factor)
    {
        var s = LinearWarmupSchedule.FromRatio(2e-4, 10, 0.25); // ceil(2.5) = 3 warm-up steps, as TrainingArguments
        Assert.Equal(3, s.WarmupSteps);
        Assert.Equal(2e-4 * factor, s.At(step), 15);
    }

    [Fact]
    public void ClippingIsTorchClipGradNorm()
    {
        ParameterSet Grads(params float[] v)
        {
            var set = new ParameterSet();
            set.Add(new Parameter("a", [2], v[..2]));
            set.Add(new Parameter("b", [v.Length - 2], v[2..]));
            return set;
        }
        var big = Grads(3, 0, 0, 4); // ‖g‖ = 5
        Assert.Equal(5.0, GradientClipping.Clip(big, 1.0), 12);
        float coef = (float)(1.0 / (5 + 1e-6));
        Assert.Equal([3 * coef, 0f], big["a"].Values);
        Assert.Equal([0f, 4 * coef], big["b"].Values);
        var small = Grads(0.3f, 0, 0, 0.4f); // below the threshold: untouched
        GradientClipping.Clip(small, 1.0);
        Assert.Equal([0.3f, 0f], small["a"].Values);
    }
}

public sealed class TrainingDataTests
{
    [Fact]
    public void SentenceFilesJoinGlueTsvAndStsBenchmarkCsv()
    {
        string sts = TestPaths.Data("stsbenchmark", "sts-train.csv"), mrpc = TestPaths.Data("mrpc", "train.tsv");
        var stsOnly = TrainingData.ReadSentences(sts);
        Assert.Equal("A plane is taking off.", stsOnly[0].Text);
        Assert.Equal("An air plane is taking off.", stsOnly[1].Text);
        Assert.Equal(2 * File.ReadLines(sts).Count(), stsOnly.Count);
        var both = TrainingData.ReadSentenceFiles(mrpc + "," + sts);
        Assert.StartsWith("Amrozi accused his brother", both[0].Text);
        Assert.Equal(stsOnly.Count + TrainingData.ReadSentences(mrpc).Count, both.Count);
        Assert.Throws<InputException>(() => TrainingData.ReadSentenceFiles(mrpc + ",/nonexistent/x.txt"));
    }
}
