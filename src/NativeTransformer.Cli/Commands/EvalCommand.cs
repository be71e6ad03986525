using NativeTransformer.Evaluation;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr eval</c>: a model's figures on a task's labelled data (the work is done by <see cref="Evaluator"/>).</summary>
internal static class EvalCommand
{
    public const string Name = "eval";

    public static readonly CommandSpec Spec = new(
        Name,
        "Evaluate a model on a task's labelled data (SST-2, MRPC, STS-B, CoNLL-2003 NER) and print its figures.",
        "ntr eval [--model DIR|OWNER/NAME] --task sst2|mrpc|stsb|conll2003 --data FILE [--threads N] [--max-length N] [--batch-size N] [--int8]",
        [Common.Model,
         new("--task", "TASK", "Task: sst2 (GLUE SST-2), mrpc (GLUE MRPC), stsb (STS Benchmark) or conll2003 (CoNLL-2003 NER). Required."),
         new("--data", "FILE", "The task's labelled data, e.g. ../shared/data/sst2/dev.tsv ('-': stdin). Required."),
         .. Common.LoadOptionSpecs],
        Details:
            "Prints ONE JSON object on stdout; every figure is a PERCENTAGE rounded to 2 decimals:\n" +
            "  sst2: {\"task\": \"sst2\", \"n\": N, \"accuracy\": A}         best label index == gold label (0/1)\n" +
            "  mrpc: {\"task\": \"mrpc\", \"n\": N, \"accuracy\": A, \"f1\": F}  pairs classified as sentence pairs;\n" +
            "        F1 of label 1 (paraphrase), 0 when there is no positive at all\n" +
            "  stsb: {\"task\": \"stsb\", \"n\": N, \"spearman\": S, \"pearson\": P}  correlation x 100 of the cosine\n" +
            "        similarity of the two sentences' embeddings (the model's own pooling) with the gold 0..5 score\n" +
            "  conll2003: {\"task\": \"conll2003\", \"n\": sentences, \"f1\": F, \"precision\": P, \"recall\": R,\n" +
            "        \"word_accuracy\": A, \"words\": W, \"words_scored\": S}  entity F1 with conlleval rules (IOB2 chunks,\n" +
            "        exact span and type, micro over entities); a word's label is the prediction at its first piece;\n" +
            "        words cut by the max length count as O (words_scored excludes them)\n" +
            "sst2 and mrpc need a sequence-classification head, conll2003 a token-classification head; stsb works with any model.\n" +
            "  conll2003: one sentence per line, tokens word###TAG separated by single spaces (IOB2 tags)\n" +
            "Data formats (fields split at TAB only, no quote processing; a UTF-8 BOM is skipped):\n" +
            "  sst2: header 'sentence<TAB>label', then sentence<TAB>0|1 (GLUE dev.tsv)\n" +
            "  mrpc: header 'Quality<TAB>#1 ID<TAB>#2 ID<TAB>#1 String<TAB>#2 String', then 5 fields (GLUE dev.tsv)\n" +
            "  stsb: no header; genre, file, year, id, score, sentence 1, sentence 2 [, extra columns ignored]\n" +
            "        (stsbenchmark sts-dev.csv)\n" +
            "A progress bar goes to stderr only when stderr is a terminal; otherwise stderr stays empty on success.\n" +
            "The data file is read and validated (strict UTF-8, header, field count, labels) before the model\n" +
            "loads; a malformed row is an error naming its line.");

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        string taskName = a.Required("--task");
        if (taskName == ConllNer.TaskName) return NerEval.Run(a, ctx);
        if (!EvalTasks.TryParse(taskName, out var task))
            throw new UsageException($"unknown task '{taskName}'; supported tasks: {string.Join(", ", EvalTasks.Names)}, {ConllNer.TaskName}", Name);
        string data = a.Required("--data");
        var options = Common.LoadOptions(a);
        string dir = Common.ModelDir(a, ctx);

        List<TaskExample> examples;
        using (var reader = LineReader.Open(data, ctx.Stdin))
            examples = TaskDataReader.Read(task, Lines(reader), reader.SourceName);

        using var model = TransformerModel.Load(dir, options);
        if (task.NeedsClassifier() && !model.HasClassifier)
            throw new InputException($"{dir}: this model has no sequence-classification head (task {taskName} needs one; stsb works with any model)");

        Action<int, int>? progress = ctx.StderrIsTerminal ? (done, total) => ctx.Stderr.Write(ProgressLine(taskName, done, total)) : null;
        var result = Evaluator.Evaluate(model, task, examples, Common.ChunkSize(a), progress);
        if (ctx.StderrIsTerminal) ctx.Stderr.Write("\n");

        WriteResult(ctx.Stdout, result);
        return CliApp.ExitOk;
    }

    internal static IEnumerable<string> Lines(LineReader reader)
    {
        while (reader.TryReadLine(out var line)) yield return line;
    }

    /// <summary>"\rsst2 [########------------]  320/872" (redrawn in place).</summary>
    internal static string ProgressLine(string task, int done, int total)
    {
        const int width = 24;
        int filled = total == 0 ? width : (int)((long)done * width / total);
        return $"\r{task} [{new string('#', filled)}{new string('-', width - filled)}] {done}/{total}";
    }

    internal static void WriteResult(TextWriter output, EvalResult r)
    {
        var json = new JsonLineWriter(output);
        var w = json.Begin();
        w.WriteStartObject();
        w.WriteString("task", r.Task.Name());
        w.WriteNumber("n", r.N);
        switch (r.Task)
        {
            case EvalTask.Stsb:
                w.WriteNumber("spearman", r.SpearmanPercent);
                w.WriteNumber("pearson", r.PearsonPercent);
                break;
            case EvalTask.Mrpc:
                w.WriteNumber("accuracy", r.AccuracyPercent);
                w.WriteNumber("f1", r.F1Percent);
                break;
            default:
                w.WriteNumber("accuracy", r.AccuracyPercent);
                break;
        }
        w.WriteEndObject();
        json.End();
    }
}
