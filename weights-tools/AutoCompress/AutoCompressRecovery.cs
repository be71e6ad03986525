using System.Globalization;
using NativeTransformer.Evaluation;
using NativeTransformer.Training;
using NativeTransformer.Training.Loop;
using NativeTransformer.WeightsTools.Training;

namespace NativeTransformer.WeightsTools.AutoCompress;

/// <summary>
/// <c>autocompress --recover</c>: after the search, the chosen folder is distilled from the original model (the teacher)
/// on training data the search never saw (<c>--recover-data</c>): KL on temperature-2 logits for classifiers (sst2, mrpc),
/// MSE on normalised mean-pooled embeddings for stsb (an embedding model), pruned zeros kept (masked updates). The run
/// checkpoints into DIR2/checkpoint (every 5 minutes and at the end, as distill). The folder as the search
/// chose it stays in DIR2/before-recovery so both can be scored the same way.
/// </summary>
internal sealed record RecoverySettings(string Data, double Minutes, int Epochs, double LearningRate, int BatchSize, int MaxLength)
{
    public const string BeforeFolder = "before-recovery";

    public static readonly string[] OptionNames = ["--recover-data", "--recover-minutes", "--recover-epochs", "--recover-lr", "--recover-batch-size", "--recover-max-length"];

    public const string Usage = "[--recover --recover-data FILE [--recover-minutes 10] [--recover-epochs 1] [--recover-lr 1e-4] [--recover-batch-size 32] [--recover-max-length 128]]";

    /// <summary>Null when --recover is absent; a usage error in <paramref name="error"/> when it is malformed.</summary>
    public static RecoverySettings? TryRead(ToolArgs a, bool recover, out string? error)
    {
        error = null;
        bool any = OptionNames.Any(n => a.Get(n) is not null);
        if (!recover)
        {
            if (any) error = "autocompress: the --recover-* options go with --recover";
            return null;
        }
        if (a.Get("--recover-data") is not { } data) { error = "autocompress: --recover needs --recover-data FILE (training data the search does not use)"; return null; }
        string? bad = null;
        double Num(string name, double fallback, double min, double max)
        {
            if (a.Get(name) is not { } t) return fallback;
            if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max) return v;
            bad ??= $"autocompress: {name} must be a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}], got '{t}'";
            return fallback;
        }
        var s = new RecoverySettings(data, Num("--recover-minutes", 10, 0.01, 1e6), (int)Num("--recover-epochs", 1, 1, 1000), Num("--recover-lr", 1e-4, 0, 1),
            (int)Num("--recover-batch-size", 32, 1, 4096), (int)Num("--recover-max-length", 128, 2, 8192));
        error = bad;
        return bad is null ? s : null;
    }

    /// <summary>Distils <paramref name="start"/> from <paramref name="teacher"/> into <paramref name="output"/> (fp32 folders);
    /// returns the training command's JSON summary.</summary>
    public string Run(string teacher, EvalTask task, int threads, string start, string output, TextWriter stderr)
    {
        bool embeddings = task == EvalTask.Stsb;
        var examples = embeddings
            ? TrainingData.ReadSentenceFiles(Data)
            : TaskDataReader.ReadFile(task, Data).Select(e => new TrainingExample(e.Text, e.TextPair, (int)e.Label)).ToList();
        var objective = TrainingObjective.Parse(embeddings ? "embedding-mse" : "kl", 2.0);
        var options = new TrainerOptions
        {
            Epochs = Epochs, BatchSize = BatchSize, LearningRate = LearningRate, WarmupRatio = 0.06, MaxGradNorm = 1, Threads = threads,
            MaxLength = MaxLength, MaxMinutes = Minutes, KeepSparsity = true, CheckpointEveryMinutes = 5,
            CheckpointDirectory = Path.Combine(Path.GetFullPath(output), "checkpoint"),
        };
        var summary = new StringWriter();
        Directory.CreateDirectory(output);   // DIR2 exists; the int8 path trains into a fresh DIR2/recovery-fp32
        int code = TrainingRun.Execute("autocompress --recover", new TrainingArgs(options, Data, output, false, null, null), start, teacher, objective,
            examples, summary, stderr);
        if (code != 0) throw new InputException($"autocompress: recovery failed (exit code {code})");
        return summary.ToString().Trim();
    }
}
