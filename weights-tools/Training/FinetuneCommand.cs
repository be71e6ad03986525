using NativeTransformer.Training;
using NativeTransformer.Training.Loop;

namespace NativeTransformer.WeightsTools.Training;

/// <summary><c>weights-tools finetune --model DIR --task sst2 --data FILE --output DIR2 …</c>: cross-entropy on labelled data.</summary>
public static class FinetuneCommand
{
    public const string Usage = "usage: weights-tools finetune --model DIR --task sst2 " + TrainingArgs.OptionsUsage;

    public const string HelpLine =
        "  finetune --model DIR --task sst2 --data TRAIN.tsv --output DIR2 [--keep-sparsity] [--epochs N] [--batch-size B] [--lr X]\n" +
        "           [--warmup-ratio R] [--max-grad-norm G] [--seed S] [--threads T] [--max-minutes M] [--max-length N] [--eval DEV.tsv] …\n" +
        "                Fine-tune a BERT classifier with cross-entropy (AdamW, linear warm-up/decay, global-norm clipping,\n" +
        "                seeded shuffling; same bits for any --threads). --keep-sparsity keeps zero weights zero. Checkpoints\n" +
        "                in DIR2/checkpoint (--checkpoint-steps/--checkpoint-minutes; --resume continues bit for bit).\n" +
        "                DIR2 is a Hugging Face folder; a JSON summary goes to stdout (see docs/training.md).\n";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var (rest, flags) = TrainingArgs.SplitFlags(args);
        if (ToolArgs.TryParse("finetune", rest, allowPositional: false, [.. TrainingArgs.Options, "--model", "--task"], out var a) is { } error)
            return Fail(stderr, error);
        if (a.Get("--model") is not { } model) return Fail(stderr, "finetune: --model is required");
        if (a.Get("--task") is not "sst2") return Fail(stderr, $"finetune: --task must be sst2, got '{a.Get("--task")}'");
        if (TrainingArgs.TryRead("finetune", a, flags, out var t) is { } bad) return Fail(stderr, bad);

        TrainingRun.PrepareOutput(t);
        var examples = TrainingData.ReadSst2(t.Data);
        return TrainingRun.Execute("finetune", t, Path.GetFullPath(model), null, TrainingObjective.Parse("ce", 1), examples, stdout, stderr);
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message + "\n" + Usage);
        return 2;
    }
}
