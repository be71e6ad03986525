using NativeTransformer.Evaluation;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr eval --task conll2003</c>: entity F1 of a token classifier (the work is done by <see cref="ConllNer"/>).</summary>
internal static class NerEval
{
    public static int Run(ParsedArgs a, CliContext ctx)
    {
        string data = a.Required("--data");
        var options = Common.LoadOptions(a);
        string dir = Common.ModelDir(a, ctx);
        List<TaggedSentence> sentences;
        using (var reader = LineReader.Open(data, ctx.Stdin))
            sentences = ConllNer.Read(EvalCommand.Lines(reader), reader.SourceName);

        using var model = TransformerModel.Load(dir, options);
        if (!model.HasTokenClassifier)
            throw new InputException($"{dir}: this model has no token-classification head (task {ConllNer.TaskName} needs one)");
        Action<int, int>? progress = ctx.StderrIsTerminal ? (done, total) => ctx.Stderr.Write(EvalCommand.ProgressLine(ConllNer.TaskName, done, total)) : null;
        var r = ConllNer.Evaluate(model, sentences, Common.ChunkSize(a), progress);
        if (ctx.StderrIsTerminal) ctx.Stderr.Write("\n");

        var json = new JsonLineWriter(ctx.Stdout);
        var w = json.Begin();
        w.WriteStartObject();
        w.WriteString("task", ConllNer.TaskName);
        w.WriteNumber("n", r.Sentences);
        w.WriteNumber("f1", Metrics.Percent(r.F1));
        w.WriteNumber("precision", Metrics.Percent(r.Precision));
        w.WriteNumber("recall", Metrics.Percent(r.Recall));
        w.WriteNumber("word_accuracy", Metrics.Percent(r.WordAccuracy));
        w.WriteNumber("words", r.Words);
        w.WriteNumber("words_scored", r.WordsScored);
        w.WriteEndObject();
        json.End();
        return CliApp.ExitOk;
    }
}
