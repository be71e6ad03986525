namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr embed</c>: one sentence embedding per input line.</summary>
internal static class EmbedCommand
{
    public const string Name = "embed";

    public static readonly CommandSpec Spec = new(
        Name,
        "Compute sentence embeddings (pooled last hidden state) for each input.",
        "ntr embed [--model DIR|OWNER/NAME] [TEXT | --input FILE] [--jsonl | --stream] [--pooling mean|cls|max] [--normalize|--no-normalize] [--prompt-name NAME | --prompt TEXT] [--threads N] [--max-length N] [--batch-size N] [--int8]",
        [Common.Model, Common.Input, Common.Jsonl, JsonlStreaming.Option,
         new("--pooling", "MODE", "mean, cls or max (default: the folder's sentence-transformers config, else mean)."),
         new("--normalize", null, "L2-normalise embeddings (default: on when the folder has a Normalize module)."),
         new("--no-normalize", null, "Do not L2-normalise embeddings."),
         Common.PromptName, Common.Prompt,
         .. Common.LoadOptionSpecs],
        PositionalName: "TEXT",
        Details: "Each output line: {\"text\", \"text_pair\" (when given), \"embedding\": [floats]}.\n\n" + Common.TextHelp + Common.LineInputHelp + "\n" + JsonlStreaming.Help);

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        var options = Common.WithPrompt(a, Common.LoadOptions(a));
        switch (a.Choice("--pooling", "mean", "cls", "max"))
        {
            case "mean": options = options with { Pooling = PoolingMode.Mean }; break;
            case "cls": options = options with { Pooling = PoolingMode.Cls }; break;
            case "max": options = options with { Pooling = PoolingMode.Max }; break;
        }
        if (a.Has("--normalize") && a.Has("--no-normalize"))
            throw new UsageException("options '--normalize' and '--no-normalize' exclude each other", Name);
        if (a.Has("--normalize")) options = options with { Normalize = true };
        if (a.Has("--no-normalize")) options = options with { Normalize = false };

        Common.CheckTextOrInput(a);
        string dir = Common.ModelDir(a, ctx);
        Common.CheckInputFile(a.Get("--input"));
        using var model = TransformerModel.Load(dir, options);
        if (a.Has("--stream"))
            return JsonlStreaming.RunCommand(a, ctx, options.BatchSize, model.Embed, WriteFields);
        var json = new JsonLineWriter(ctx.Stdout);
        Common.TextOrChunks(a, ctx, chunk =>
        {
            var embeddings = model.Embed(chunk);
            for (int i = 0; i < chunk.Count; i++) Write(json, chunk[i], embeddings[i]);
        });
        return CliApp.ExitOk;
    }

    internal static void Write(JsonLineWriter json, TextInput input, float[] embedding)
    {
        var w = json.Begin();
        w.WriteStartObject();
        JsonValues.Input(w, input);
        WriteFields(w, embedding);
        w.WriteEndObject();
        json.End();
    }

    /// <summary>The result fields after the input echo (shared with --stream).</summary>
    internal static void WriteFields(System.Text.Json.Utf8JsonWriter w, float[] embedding) => JsonValues.FloatArray(w, "embedding", embedding);
}
