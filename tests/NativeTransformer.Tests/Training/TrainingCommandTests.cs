using System.Text.Json;
using NativeTransformer.Tests.WeightsTools;

namespace NativeTransformer.Tests.Training;

/// <summary>
/// weights-tools finetune / distill end to end on bert-tiny-sst2 with a handful of SST-2 lines: the output is an ordinary
/// folder the runtime loads, pruned zeros survive --keep-sparsity, and every bad input of the issue is a clear error
/// with a non-zero exit code (different vocabularies, empty data, a NaN loss that keeps the last checkpoint, an output
/// that cannot be written).
/// </summary>
public sealed class TrainingCommandTests : IDisposable
{
    private static readonly string Tiny = TestPaths.Model("bert-tiny-sst2");
    private readonly string _root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ntr-train-cmd-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string Data(int lines)
    {
        string path = Path.Combine(_root, $"train{lines}.tsv");
        File.WriteAllLines(path, File.ReadLines(TestPaths.Data("sst2", "train.tsv")).Take(lines + 1));
        return path;
    }

    private static readonly string[] Small = ["--epochs", "1", "--batch-size", "4", "--max-length", "16", "--threads", "1", "--seed", "3"];

    [Fact]
    public void DistillWritesAFolderTheRuntimeLoadsAndKeepsPrunedZeros()
    {
        string pruned = Path.Combine(_root, "pruned"), output = Path.Combine(_root, "out");
        Assert.Equal(0, MakeRandomRun.Run("prune", Tiny, "--output", pruned, "--sparsity", "0.5", "--method", "magnitude", "--scope", "matrix").ExitCode);
        var r = MakeRandomRun.Run(["distill", "--teacher", Tiny, "--student", pruned, "--keep-sparsity", "--task", "sst2", "--loss", "kl,0.5*ce",
            "--data", Data(8), "--output", output, .. Small]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var summary = JsonDocument.Parse(r.Stdout);
        Assert.Equal(2, summary.RootElement.GetProperty("steps").GetInt32());

        using var model = TransformerModel.Load(output);
        Assert.Equal(2, model.Classify(["a fine film"])[0].Logits.Length);
        var before = NativeTransformer.Training.BertTrainingModel.Load(pruned).Parameters;
        var after = NativeTransformer.Training.BertTrainingModel.Load(output).Parameters;
        const string key = "bert.encoder.layer.1.output.dense.weight";
        var (b, a) = (before[key].Values, after[key].Values);
        Assert.Contains(Enumerable.Range(0, b.Length), i => b[i] != 0 && a[i] != b[i]);
        for (int i = 0; i < b.Length; i++) if (b[i] == 0) Assert.Equal(0f, a[i]);
    }

    [Fact]
    public void ATeacherWithAnotherVocabularyIsRefused()
    {
        var r = MakeRandomRun.Run(["distill", "--teacher", TestPaths.Model("roberta-mini-sst2"), "--student", Tiny, "--task", "sst2",
            "--data", Data(4), "--output", Path.Combine(_root, "o"), .. Small]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("vocabulary", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_root, "o", "model.safetensors")));
    }

    [Fact]
    public void EmptyDataIsRefused()
    {
        string empty = Path.Combine(_root, "empty.tsv");
        File.WriteAllText(empty, "sentence\tlabel\n");
        var r = MakeRandomRun.Run(["finetune", "--model", Tiny, "--task", "sst2", "--data", empty, "--output", Path.Combine(_root, "o"), .. Small]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(empty, r.Stderr);
    }

    [Fact]
    public void ANaNLossStopsWithAClearMessageAndKeepsTheLastCheckpoint()
    {
        string output = Path.Combine(_root, "nan");
        var r = MakeRandomRun.Run(["finetune", "--model", Tiny, "--task", "sst2", "--data", Data(16), "--output", output, "--lr", "1e30",
            "--max-grad-norm", "0", "--checkpoint-steps", "1", .. Small]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("diverged at step", r.Stderr);
        Assert.True(Directory.EnumerateFiles(Path.Combine(output, "checkpoint"), "*", SearchOption.AllDirectories).Any(), "no checkpoint kept");
    }

    [Fact]
    public void AnOutputThatCannotBeWrittenIsRefusedBeforeTraining()
    {
        string file = Path.Combine(_root, "a-file");
        File.WriteAllText(file, "x");
        var r = MakeRandomRun.Run(["finetune", "--model", Tiny, "--task", "sst2", "--data", Data(4), "--output", Path.Combine(file, "out"), .. Small]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("not writable", r.Stderr);
    }

    [Fact]
    public void AnInterruptedDistillResumedWritesTheSameWeightsAsAnUninterruptedOne()
    {
        string data = Data(24), whole = Path.Combine(_root, "whole"), split = Path.Combine(_root, "split");
        string[] run = ["distill", "--teacher", TestPaths.Model("bert-mini-sst2"), "--student", Tiny, "--task", "sst2", "--dropout", "0.1",
            "--data", data, .. Small];
        var a = MakeRandomRun.Run([.. run, "--output", whole]);
        Assert.True(a.ExitCode == 0, a.Stderr);
        var first = MakeRandomRun.Run([.. run, "--output", split, "--max-steps", "2"]);   // stops after 2 of 6 steps, checkpoint at the stop
        Assert.True(first.ExitCode == 0, first.Stderr);
        using (var s1 = JsonDocument.Parse(first.Stdout)) Assert.Equal("max-steps", s1.RootElement.GetProperty("stopped_by").GetString());
        var rest = MakeRandomRun.Run([.. run, "--output", split, "--resume"]);
        Assert.True(rest.ExitCode == 0, rest.Stderr);
        using (var s2 = JsonDocument.Parse(rest.Stdout)) Assert.Equal(2, s2.RootElement.GetProperty("resumed_from_step").GetInt32());
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "model.safetensors")), File.ReadAllBytes(Path.Combine(split, "model.safetensors")));
    }
}
