namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr fill-mask</c>: top-k predictions for every [MASK] token (masked-LM models).</summary>
internal static class FillMaskCommand
{
    public const string Name = "fill-mask";

    public static readonly CommandSpec Spec = new(
        Name,
        "Predict the tokens behind each [MASK] with a masked-LM model (e.g. BertForMaskedLM).",
        "ntr fill-mask [--model DIR|OWNER/NAME] [--top-k K] [--input FILE | TEXT] [--threads N] [--max-length N] [--batch-size N] [--int8]",
        [Common.Model, Common.Input,
         new("--top-k", "K", "Candidates per [MASK] (default 5)."),
         .. Common.LoadOptionSpecs],
        PositionalName: "TEXT",
        Details:
            "The text is TEXT when given, else one text per line from --input FILE or stdin (strict UTF-8,\n" +
            "trailing \\r stripped, an empty line is an empty text). Each output line:\n" +
            "{\"text\", \"masks\": [{\"position\": token index, \"candidates\": [{\"token\", \"id\", \"score\"}, ...]}, ...]}\n" +
            "with scores as softmax probabilities, best first.");

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        int topK = a.PositiveInt("--top-k") ?? 5;
        var options = Common.LoadOptions(a);
        if (a.Positionals.Count > 0 && a.Has("--input"))
            throw new UsageException("give either TEXT or --input, not both", Name);
        string dir = Common.ModelDir(a, ctx);
        Common.CheckInputFile(a.Get("--input"));
        using var model = TransformerModel.Load(dir, options);
        if (!model.HasMaskedLm)
            throw new InputException($"{dir}: this model has no masked-LM head; fill-mask needs e.g. BertForMaskedLM");
        var json = new JsonLineWriter(ctx.Stdout);
        if (a.Positionals.Count > 0)
        {
            string text = a.Positionals[0];
            Write(json, text, model.FillMask(text, topK));
            return CliApp.ExitOk;
        }
        using var reader = LineReader.Open(a.Get("--input"), ctx.Stdin);
        while (reader.TryReadLine(out var line))
        {
            Write(json, line, model.FillMask(line, topK));
            if (reader.LineNumber % Common.DefaultChunkSize == 0) ctx.Stdout.Flush();
        }
        return CliApp.ExitOk;
    }

    internal static void Write(JsonLineWriter json, string text, MaskPrediction[] masks)
    {
        var w = json.Begin();
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteStartArray("masks");
        foreach (var m in masks)
        {
            w.WriteStartObject();
            w.WriteNumber("position", m.Position);
            w.WriteStartArray("candidates");
            foreach (var c in m.Candidates)
            {
                w.WriteStartObject();
                w.WriteString("token", c.Token);
                w.WriteNumber("id", c.TokenId);
                w.WritePropertyName("score");
                JsonValues.Float(w, c.Score);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        json.End();
    }
}
