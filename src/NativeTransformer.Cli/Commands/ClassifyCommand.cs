namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr classify</c>: the sequence classifier's label, score and logits per input line.</summary>
internal static class ClassifyCommand
{
    public const string Name = "classify";

    public static readonly CommandSpec Spec = new(
        Name,
        "Classify each input with the model's sequence-classification head.",
        "ntr classify [--model DIR|OWNER/NAME] [TEXT | --input FILE] [--jsonl | --stream] [--overflow truncate|error|window [--stride N]] [--threads N] [--max-length N] [--batch-size N] [--int8]",
        [Common.Model, Common.Input, Common.Jsonl, JsonlStreaming.Option, Common.Overflow, Common.Stride, .. Common.LoadOptionSpecs],
        PositionalName: "TEXT",
        Details:
            "Each output line: {\"text\", \"text_pair\" (when given), \"label\" (id2label name of the best label),\n" +
            "\"score\" (that label's score), \"logits\": [floats], \"scores\": [one per label], \"score_function\"}.\n" +
            "score_function follows config.json: \"softmax\" over the labels; \"sigmoid\" per label for problem_type\n" +
            "multi_label_classification and for one-logit heads (cross-encoders; sbert_ce_default_activation_function\n" +
            "Identity gives \"identity\"); \"identity\" (the raw values) for problem_type regression.\n" +
            "Plus \"truncated\": true when the input was cut to the max length, or \"windows\": N when --overflow window ran\n" +
            "it in N windows (logits = their mean weighted by the tokens each window owns, then scored as above).\n\n" + Common.TextHelp + Common.LineInputHelp + "\n" + JsonlStreaming.Help);

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        var options = Common.WithOverflow(a, Common.LoadOptions(a));
        Common.CheckTextOrInput(a);
        string dir = Common.ModelDir(a, ctx);
        Common.CheckInputFile(a.Get("--input"));
        using var model = TransformerModel.Load(dir, options);
        if (!model.HasClassifier)
            throw new InputException($"{dir}: this model has no sequence-classification head (try 'ntr embed')");
        if (a.Has("--stream"))
            return JsonlStreaming.RunCommand(a, ctx, options.BatchSize, model.Classify, WriteFields);
        var json = new JsonLineWriter(ctx.Stdout);
        Common.TextOrChunks(a, ctx, chunk =>
        {
            var results = model.Classify(chunk);
            for (int i = 0; i < chunk.Count; i++) Write(json, chunk[i], results[i]);
        });
        return CliApp.ExitOk;
    }

    internal static void Write(JsonLineWriter json, TextInput input, Classification c)
    {
        var w = json.Begin();
        w.WriteStartObject();
        JsonValues.Input(w, input);
        WriteFields(w, c);
        w.WriteEndObject();
        json.End();
    }

    /// <summary>The result fields after the input echo (shared with --stream).</summary>
    internal static void WriteFields(System.Text.Json.Utf8JsonWriter w, Classification c)
    {
        w.WriteString("label", c.Label);
        w.WritePropertyName("score");
        JsonValues.Float(w, c.Score);
        JsonValues.FloatArray(w, "logits", c.Logits);
        if (c.Scores.Length == 0) return;   // a Classification built by hand, not by the model
        JsonValues.FloatArray(w, "scores", c.Scores);
        w.WriteString("score_function", Models.SequenceScoring.Name(c.Function));
        Common.WriteOverflow(w, c.Truncated, c.Windows);
    }
}
