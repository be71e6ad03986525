namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr rerank</c>: scores each document against a query with a cross-encoder and prints them best first.</summary>
internal static class RerankCommand
{
    public const string Name = "rerank";

    public static readonly CommandSpec Spec = new(
        Name,
        "Rank documents by relevance to a query with a cross-encoder (a sequence classifier with one logit).",
        "ntr rerank --model DIR|OWNER/NAME --query TEXT [--input FILE] [--jsonl] [--top-k K] [--threads N] [--max-length N] [--batch-size N] [--int8]",
        [Common.Model,
         new("--query", "TEXT", "The query every document is paired with (first segment). Required, not empty."),
         new("--input", "FILE", "Documents, one per line, from FILE ('-' or absent: stdin)."),
         new("--jsonl", null, "Each input line is a JSON object {\"text\": ...} (the document)."),
         new("--top-k", "K", "Print only the K best documents (default: all)."),
         .. Common.LoadOptionSpecs],
        Details:
            "Each document is scored as the pair (query, document) — [CLS] query [SEP] document [SEP], truncated\n" +
            "longest-first to the max length — and the output lists the documents best first (ties keep input order),\n" +
            "one JSON line each: {\"index\" (0-based input line), \"text\", \"score\"}. The score is sigmoid(logit) unless\n" +
            "config.json says otherwise (problem_type regression or an Identity activation: the logit).\n" +
            "Input: strict UTF-8 lines as for classify (an empty line is an empty document); all documents are read\n" +
            "before the output starts. A model without a classifier, or with more than one label, is an error.");

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        var options = Common.LoadOptions(a);
        if (a.Positionals.Count > 0) throw new UsageException("rerank takes no TEXT; give --query and the documents on --input/stdin", Name);
        string query = a.Required("--query");
        int? topK = a.PositiveInt("--top-k");
        string dir = Common.ModelDir(a, ctx);
        Common.CheckInputFile(a.Get("--input"));
        using var model = TransformerModel.Load(dir, options);
        try { model.CheckReranker(); }
        catch (NativeTransformerException e) when (e is not InputException) { throw new InputException($"{dir}: {e.Message}"); }

        var documents = new List<string>();
        Common.StreamChunks(a, ctx, chunk =>
        {
            foreach (var input in chunk)
            {
                if (input.TextPair is not null)
                    throw new InputException($"document {documents.Count}: \"text_pair\" does not apply to rerank (the query is the first segment)");
                documents.Add(input.Text);
            }
        });
        var json = new JsonLineWriter(ctx.Stdout);
        foreach (var r in model.Rerank(query, documents, topK)) Write(json, r);
        return CliApp.ExitOk;
    }

    internal static void Write(JsonLineWriter json, RerankResult r)
    {
        var w = json.Begin();
        w.WriteStartObject();
        w.WriteNumber("index", r.Index);
        w.WriteString("text", r.Document);
        w.WritePropertyName("score");
        JsonValues.Float(w, r.Score);
        w.WriteEndObject();
        json.End();
    }
}
