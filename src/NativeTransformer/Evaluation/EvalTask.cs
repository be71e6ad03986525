namespace NativeTransformer.Evaluation;

/// <summary>The evaluation tasks: GLUE SST-2 (sentiment), GLUE MRPC (paraphrase pairs) and STS Benchmark (similarity).</summary>
public enum EvalTask { Sst2, Mrpc, Stsb }

/// <summary>Task names as the command lines spell them.</summary>
public static class EvalTasks
{
    public static readonly string[] Names = ["sst2", "mrpc", "stsb"];

    public static string Name(this EvalTask task) => Names[(int)task];

    /// <summary>Parses "sst2", "mrpc" or "stsb"; false for anything else.</summary>
    public static bool TryParse(string? name, out EvalTask task)
    {
        int i = Array.IndexOf(Names, name);
        task = (EvalTask)Math.Max(i, 0);
        return i >= 0;
    }

    /// <summary>True when the task's figure comes from a classification head (SST-2, MRPC); STS-B uses embeddings.</summary>
    public static bool NeedsClassifier(this EvalTask task) => task != EvalTask.Stsb;

    /// <summary>The name of the task's headline metric (what sweeps and autocompress optimise).</summary>
    public static string PrimaryMetric(this EvalTask task) => task == EvalTask.Stsb ? "spearman" : "accuracy";
}

/// <summary>
/// One labelled example: a text or a text pair, its gold label (0/1 for SST-2 and MRPC, the 0..5 similarity
/// score for STS-B) and the 1-based line of the data file it came from.
/// </summary>
public readonly record struct TaskExample(string Text, string? TextPair, double Label, int LineNumber)
{
    public TextInput Input => new(Text, TextPair);
}
