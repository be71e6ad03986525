namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr ner</c>: named entities per input line from a token-classification model.</summary>
internal static class NerCommand
{
    public const string Name = "ner";

    public static readonly CommandSpec Spec = new(
        Name,
        "Tag named entities with the model's token-classification head (Hugging Face's token-classification pipeline).",
        "ntr ner --model DIR|OWNER/NAME [TEXT | --input FILE] [--aggregation none|simple|first|average|max] [--jsonl] [--overflow truncate|error|window [--stride N]] [--threads N] [--max-length N] [--batch-size N] [--int8]",
        [Common.Model, Common.Input, Common.Jsonl,
         new("--aggregation", "STRATEGY", "none (one result per token), simple (default), first, average or max (one label per word first)."),
         Common.Overflow, Common.Stride,
         .. Common.LoadOptionSpecs],
        PositionalName: "TEXT",
        Details:
            "Each output line: {\"text\", \"entities\": [...], \"truncated\": bool}. An entity is {\"entity_group\", \"score\",\n" +
            "\"word\", \"start\", \"end\"}; with --aggregation none {\"entity\" (the full label, e.g. B-PER), \"score\", \"index\"\n" +
            "(token position, [CLS] = 0), \"word\", \"start\", \"end\"}. start/end are UTF-16 offsets into the text and word is\n" +
            "the text between them. Entities labelled O are left out. \"truncated\": true means the text had more tokens\n" +
            "than the max length and the rest was not tagged. With --overflow window a long text is tagged in overlapping\n" +
            "windows (\"windows\": N) merged as Hugging Face's pipeline does with stride: sorted by start, an entity starting\n" +
            "inside the previous one replaces it when longer (or as long and higher-scoring), else is dropped; not with\n" +
            "--aggregation none.\n" +
            "Grouping follows Hugging Face: tokens (or words) of the same type merge unless the next one is a B- label;\n" +
            "the group's score is the mean of its members'. first/average/max take word boundaries from WordPiece '##'\n" +
            "pieces (other tokenizers: no space before or at the piece).\n" +
            "Text pairs are not accepted (a text_pair in --jsonl input is an error).\n\n" + Common.TextHelp + Common.LineInputHelp);

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        var options = Common.WithOverflow(a, Common.LoadOptions(a));
        Common.CheckTextOrInput(a);
        EntityAggregation aggregation;
        try { aggregation = EntityAggregations.Parse(a.Get("--aggregation") ?? "simple"); }
        catch (InputException e) { throw new UsageException($"option '--aggregation': {e.Message}", Name); }
        string dir = Common.ModelDir(a, ctx);
        Common.CheckInputFile(a.Get("--input"));
        using var model = TransformerModel.Load(dir, options);
        if (!model.HasTokenClassifier)
            throw new InputException($"{dir}: this {model.Config.Architecture} model has no token-classification head (config.json architectures must name a …ForTokenClassification)");
        var json = new JsonLineWriter(ctx.Stdout);
        var texts = new List<string>();
        Common.TextOrChunks(a, ctx, chunk =>
        {
            texts.Clear();
            foreach (var input in chunk)
            {
                if (input.TextPair is not null) throw new InputException("ner tags single texts; an input has a text_pair");
                texts.Add(input.Text);
            }
            foreach (var tagging in model.TagEntities(texts, aggregation)) Write(json, tagging, aggregation);
        });
        return CliApp.ExitOk;
    }

    internal static void Write(JsonLineWriter json, EntityTagging t, EntityAggregation aggregation)
    {
        var w = json.Begin();
        w.WriteStartObject();
        w.WriteString("text", t.Text);
        w.WriteStartArray("entities");
        foreach (var e in t.Entities)
        {
            w.WriteStartObject();
            w.WriteString(aggregation == EntityAggregation.None ? "entity" : "entity_group", e.Label);
            w.WritePropertyName("score");
            JsonValues.Float(w, e.Score);
            if (e.Index is int index) w.WriteNumber("index", index);
            w.WriteString("word", e.Word);
            w.WriteNumber("start", e.Start);
            w.WriteNumber("end", e.End);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteBoolean("truncated", t.Truncated);
        if (t.Windows > 1) w.WriteNumber("windows", t.Windows);
        w.WriteEndObject();
        json.End();
    }
}
