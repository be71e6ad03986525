namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr embed</c>: one sentence embedding per input line.</summary>
internal static class EmbedCommand
{
    public const string Name = "embed";

    public static readonly CommandSpec Spec = new(
        Name,
        "Compute sentence embeddings (pooled last hidden state) for each input.",
        "ntr embed [--model DIR|OWNER/NAME] [TEXT | --input FILE] [--jsonl | --stream] [--pooling mean|cls|max] [--normalize|--no-normalize] [--prompt-name NAME | --prompt TEXT] [--overflow truncate|error|window [--stride N]] [--shard I/N] [--threads N] [--max-length N] [--batch-size N] [--int8]",
        [Common.Model, Common.Input, Common.Jsonl, JsonlStreaming.Option,
         new("--pooling", "MODE", "mean, cls or max (default: the folder's sentence-transformers config, else mean)."),
         new("--normalize", null, "L2-normalise embeddings (default: on when the folder has a Normalize module)."),
         new("--no-normalize", null, "Do not L2-normalise embeddings."),
         Common.PromptName, Common.Prompt, Common.Overflow, Common.Stride, Shard.Option,
         .. Common.LoadOptionSpecs],
        PositionalName: "TEXT",
        Details: "Each output line: {\"text\", \"text_pair\" (when given), \"embedding\": [floats]}, plus \"truncated\": true\n" +
            "when the input was cut to the max length, or \"windows\": N when --overflow window ran it in N windows (their\n" +
            "pooled vectors averaged, weighted by the tokens each window owns, then Dense / normalisation).\n\n" + Common.TextHelp + Common.LineInputHelp + "\n" + JsonlStreaming.Help);

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        var options = Common.WithOverflow(a, Common.WithPrompt(a, Common.LoadOptions(a)));
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
        var shard = Shard.Parse(a);
        string dir = Common.ModelDir(a, ctx);
        Common.CheckInputFile(a.Get("--input"));
        RecordRange? range = shard?.RangeOf(a.Get("--input")!);
        using var model = TransformerModel.Load(dir, options);
        if (a.Has("--stream"))
            return JsonlStreaming.RunCommand(a, ctx, options.BatchSize, inputs => model.EmbedResults(inputs), WriteFields);
        var json = new JsonLineWriter(ctx.Stdout);
        Common.TextOrChunks(a, ctx, chunk =>
        {
            var embeddings = model.EmbedResults(chunk);
            for (int i = 0; i < chunk.Count; i++) Write(json, chunk[i], embeddings[i]);
        }, range);
        return CliApp.ExitOk;
    }

    internal static void Write(JsonLineWriter json, TextInput input, float[] embedding) => Write(json, input, new EmbeddingResult(embedding, false, 1));

    internal static void Write(JsonLineWriter json, TextInput input, EmbeddingResult embedding)
    {
        var w = json.Begin();
        w.WriteStartObject();
        JsonValues.Input(w, input);
        WriteFields(w, embedding);
        w.WriteEndObject();
        json.End();
    }

    /// <summary>The result fields after the input echo (shared with --stream).</summary>
    internal static void WriteFields(System.Text.Json.Utf8JsonWriter w, EmbeddingResult embedding)
    {
        JsonValues.FloatArray(w, "embedding", embedding.Vector);
        Common.WriteOverflow(w, embedding.Truncated, embedding.Windows);
    }
}
