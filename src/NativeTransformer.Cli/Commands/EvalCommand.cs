using System.Text.Json;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr eval</c>: accuracy of a classifier on a labelled evaluation set.</summary>
internal static class EvalCommand
{
    public const string Name = "eval";

    public static readonly string[] Tasks = ["sst2"];

    public static readonly CommandSpec Spec = new(
        Name,
        "Evaluate a classifier on a task's labelled data and print its accuracy.",
        "ntr eval --model DIR --task sst2 --data FILE [--threads N] [--max-length N] [--batch-size N] [--int8]",
        [Common.Model,
         new("--task", "TASK", "Task: sst2 (GLUE SST-2). Required."),
         new("--data", "FILE", "Labelled data, e.g. SST-2 dev.tsv (header 'sentence<TAB>label', labels 0/1). Required."),
         .. Common.LoadOptionSpecs],
        Details:
            "Prints ONE JSON object on stdout: {\"task\": \"sst2\", \"n\": <examples>, \"accuracy\": <percent>}, where\n" +
            "accuracy is a PERCENTAGE rounded to 2 decimals (e.g. 80.96 means 80.96 % correct). A prediction is\n" +
            "correct when the classifier's best label index equals the gold label.\n" +
            "Progress goes to stderr only when stderr is a terminal; otherwise stderr stays empty on success.\n" +
            "The data file is read and validated (strict UTF-8, exact header, two fields, label 0 or 1) before the\n" +
            "model loads; a malformed row is an error naming its line.");

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        string task = a.Required("--task");
        if (Array.IndexOf(Tasks, task) < 0)
            throw new UsageException($"unknown task '{task}'; supported tasks: {string.Join(", ", Tasks)}", Name);
        string data = a.Required("--data");
        var options = Common.LoadOptions(a);
        string dir = Common.ModelDir(a);

        List<LabeledExample> examples;
        using (var reader = LineReader.Open(data, ctx.Stdin))
            examples = Sst2Reader.Read(reader);

        using var model = TransformerModel.Load(dir, options);
        if (!model.HasClassifier)
            throw new InputException($"{dir}: this model has no sequence-classification head");

        int chunk = Common.ChunkSize(a);
        int correct = 0;
        var batch = new List<TextInput>(chunk);
        for (int start = 0; start < examples.Count; start += chunk)
        {
            batch.Clear();
            int end = Math.Min(examples.Count, start + chunk);
            for (int i = start; i < end; i++) batch.Add(new TextInput(examples[i].Text));
            var results = model.Classify(batch);
            for (int i = start; i < end; i++)
                if (results[i - start].LabelId == examples[i].Label) correct++;
            if (ctx.StderrIsTerminal) ctx.Stderr.Write($"\r{task}: {end}/{examples.Count}");
        }
        if (ctx.StderrIsTerminal) ctx.Stderr.Write("\n");

        WriteResult(ctx.Stdout, task, examples.Count, correct);
        return CliApp.ExitOk;
    }

    /// <summary>Accuracy in percent, rounded to 2 decimals (away from zero at .5).</summary>
    internal static double AccuracyPercent(int correct, int n) => Math.Round(100.0 * correct / n, 2, MidpointRounding.AwayFromZero);

    internal static void WriteResult(TextWriter output, string task, int n, int correct)
    {
        var json = new JsonLineWriter(output);
        var w = json.Begin();
        w.WriteStartObject();
        w.WriteString("task", task);
        w.WriteNumber("n", n);
        w.WriteNumber("accuracy", AccuracyPercent(correct, n));
        w.WriteEndObject();
        json.End();
    }
}
