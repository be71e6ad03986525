using System.Globalization;
using NativeTransformer.Compression;
using NativeTransformer.Training;
using NativeTransformer.Training.Loop;

namespace NativeTransformer.WeightsTools.Training;

/// <summary><c>weights-tools distill --teacher DIR (--student DIR | --student-from-teacher …) --data FILE --task sst2|embeddings --loss … --output DIR2</c>.</summary>
public static class DistillCommand
{
    public const string Usage =
        "usage: weights-tools distill --teacher DIR (--student DIR | --student-from-teacher [--drop-top K | --keep-layers L] [--prune S]) " +
        "--task sst2|embeddings [--loss ce,kl,embedding-mse] [--temperature T] " + TrainingArgs.OptionsUsage;

    public const string HelpLine =
        "  distill --teacher DIR (--student DIR | --student-from-teacher [--drop-top K | --keep-layers 0,2] [--prune S]) --task sst2|embeddings\n" +
        "          --data FILE --output DIR2 [--loss ce,kl,embedding-mse] [--temperature T] [options as finetune]\n" +
        "                Train the student towards the teacher: kl = KL of temperature-T softmaxes × T² (sst2 default, T 2),\n" +
        "                embedding-mse = MSE of mean-pooled normalised embeddings (embeddings default), ce = labels; losses\n" +
        "                add. --student-from-teacher builds the student with drop-layers / prune (matrix scope) into\n" +
        "                DIR2/student-start. Data: SST-2 TSV (sst2); for embeddings text files, GLUE TSV sentence columns or\n" +
        "                STS benchmark csv, several joined by commas.\n";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var (rest, flags) = TrainingArgs.SplitFlags(args);
        bool fromTeacher = rest.Contains("--student-from-teacher");
        rest = rest.Where(x => x != "--student-from-teacher").ToArray();
        if (ToolArgs.TryParse("distill", rest, allowPositional: false,
                [.. TrainingArgs.Options, "--teacher", "--student", "--task", "--loss", "--temperature", "--drop-top", "--keep-layers", "--prune"], out var a) is { } error)
            return Fail(stderr, error);
        if (a.Get("--teacher") is not { } teacher) return Fail(stderr, "distill: --teacher is required");
        string? student = a.Get("--student");
        if ((student is null) == !fromTeacher) return Fail(stderr, "distill: give exactly one of --student DIR and --student-from-teacher");
        bool reduces = a.Get("--drop-top") is not null || a.Get("--keep-layers") is not null || a.Get("--prune") is not null;
        if (!fromTeacher && reduces) return Fail(stderr, "distill: --drop-top / --keep-layers / --prune go with --student-from-teacher");
        if (fromTeacher && !reduces) return Fail(stderr, "distill: --student-from-teacher needs --drop-top K, --keep-layers L and/or --prune S");
        if (a.Get("--drop-top") is not null && a.Get("--keep-layers") is not null) return Fail(stderr, "distill: give --drop-top or --keep-layers, not both");
        string? task = a.Get("--task");
        if (task is not ("sst2" or "embeddings")) return Fail(stderr, $"distill: --task must be sst2 or embeddings, got '{task}'");
        double temperature = 2;
        if (a.Get("--temperature") is { } tt && (!double.TryParse(tt, NumberStyles.Float, CultureInfo.InvariantCulture, out temperature) || !(temperature > 0) || !double.IsFinite(temperature)))
            return Fail(stderr, $"distill: --temperature must be a positive number, got '{tt}'");
        int? dropTop = null;
        if (a.Get("--drop-top") is { } dt)
        {
            if (!int.TryParse(dt, NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1) return Fail(stderr, $"distill: --drop-top must be a positive integer, got '{dt}'");
            dropTop = k;
        }
        int[]? keep = null;
        if (a.Get("--keep-layers") is { } kl)
        {
            try { keep = LayerSelection.ParseList(kl); }
            catch (InputException e) { return Fail(stderr, "distill: --keep-layers: " + e.Message); }
        }
        double? prune = null;
        if (a.Get("--prune") is { } pt)
        {
            if (!double.TryParse(pt, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s >= 0 && s < 1)) return Fail(stderr, $"distill: --prune must be a number in [0, 1), got '{pt}'");
            prune = s;
        }
        TrainingObjective objective;
        try { objective = TrainingObjective.Parse(a.Get("--loss") ?? (task == "sst2" ? "kl" : "embedding-mse"), temperature); }
        catch (InputException e) { return Fail(stderr, "distill: " + e.Message); }
        if (task == "embeddings" && objective.ReadsLogits) return Fail(stderr, "distill: --task embeddings takes --loss embedding-mse, embedding-cosine or hidden-mse (no ce / kl: the student has no classifier)");
        if (TrainingArgs.TryRead("distill", a, flags, out var t) is { } bad) return Fail(stderr, bad);
        if (t.Eval is not null && task != "sst2") return Fail(stderr, "distill: --eval measures SST-2 accuracy; it needs --task sst2");

        string output = TrainingRun.PrepareOutput(t);
        var examples = task == "sst2" ? TrainingData.ReadSst2(t.Data) : TrainingData.ReadSentenceFiles(t.Data);
        string studentDir = fromTeacher ? DistillStudent.Derive(Path.GetFullPath(teacher), output, keep, dropTop, prune) : Path.GetFullPath(student!);
        return TrainingRun.Execute("distill", t, studentDir, Path.GetFullPath(teacher), objective, examples, stdout, stderr);
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message + "\n" + Usage);
        return 2;
    }
}
