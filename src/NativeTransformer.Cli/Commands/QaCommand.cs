using System.Text.Json;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr qa</c>: extractive question answering, one JSON line {"question", "context"} in, the answer(s) out.</summary>
internal static class QaCommand
{
    public const string Name = "qa";

    public static readonly CommandSpec Spec = new(
        Name,
        "Answer questions from a context with an extractive question-answering model (e.g. BertForQuestionAnswering).",
        "ntr qa --model DIR|OWNER/NAME [--jsonl] [--input FILE] [--top-k K] [--max-answer-len N] [--doc-stride N] [--max-seq-len N] " +
        "[--max-question-len N] [--handle-impossible-answer] [--threads N] [--batch-size N] [--int8]",
        [Common.Model, Common.Input,
         new("--jsonl", null, "Input lines are JSON objects {\"question\", \"context\"} (the only input format; accepted for symmetry)."),
         new("--top-k", "K", "Answers per question, best first (default 1; K > 1 writes a list)."),
         new("--max-answer-len", "N", "Most tokens in an answer (default 15)."),
         new("--doc-stride", "N", "Context tokens shared by consecutive windows of a long context (default min(max-seq-len/2, 128))."),
         new("--max-seq-len", "N", "Tokens per window, special tokens included (default min(384, the model's max length))."),
         new("--max-question-len", "N", "Question tokens kept (default 64)."),
         new("--handle-impossible-answer", null, "Also rank \"no answer\" (an empty answer at 0..0, scored by the [CLS] token)."),
         .. Common.LoadOptionSpecs],
        Details:
            "Input: JSON Lines from --input FILE or stdin, one {\"question\": string, \"context\": string, \"id\"?: any} per line\n" +
            "(strict UTF-8; other keys, empty strings and empty lines are errors naming the line). Output: one JSON line per\n" +
            "input, {\"answer\", \"score\", \"start\", \"end\"} (with --top-k > 1 a list of them, best first), where answer is\n" +
            "context[start:end] in UTF-16 code units and score is p_start * p_end. A context longer than one window is read in\n" +
            "overlapping windows and the answers of all windows are ranked together, as Hugging Face's question-answering\n" +
            "pipeline does.");

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        var options = Common.LoadOptions(a);
        var qa = new QuestionAnsweringOptions
        {
            TopK = a.PositiveInt("--top-k") ?? 1,
            MaxAnswerLen = a.PositiveInt("--max-answer-len") ?? 15,
            DocStride = a.Has("--doc-stride") ? a.NonNegativeInt("--doc-stride") : null,
            MaxSeqLen = a.PositiveInt("--max-seq-len"),
            MaxQuestionLen = a.PositiveInt("--max-question-len") ?? 64,
            HandleImpossibleAnswer = a.Has("--handle-impossible-answer"),
        };
        if (a.Positionals.Count > 0) throw new UsageException("qa reads JSON Lines from --input or stdin, not positional text", Name);
        string dir = Common.ModelDir(a, ctx);
        Common.CheckInputFile(a.Get("--input"));
        using var model = TransformerModel.Load(dir, options);
        if (!model.HasQuestionAnswering)
            throw new InputException($"{dir}: this model has no question-answering head (qa_outputs); qa needs e.g. BertForQuestionAnswering");
        var json = new JsonLineWriter(ctx.Stdout);
        using var reader = LineReader.Open(a.Get("--input"), ctx.Stdin);
        while (reader.TryReadLine(out var line))
        {
            string where = $"{reader.SourceName}: line {reader.LineNumber}";
            var (question, context) = ParseLine(line, where);
            QuestionAnswer[] answers;
            try { answers = model.AnswerQuestion(question, context, qa); }
            catch (InputException e) { throw new InputException($"{where}: {e.Message}", e); }
            Write(json, answers, qa.TopK);
            if (reader.LineNumber % Common.DefaultChunkSize == 0) ctx.Stdout.Flush();
        }
        return CliApp.ExitOk;
    }

    /// <summary>One input record {"question": string, "context": string, "id"?: anything}.</summary>
    internal static (string Question, string Context) ParseLine(string line, string where)
    {
        if (string.IsNullOrWhiteSpace(line)) throw new InputException($"{where}: empty line; every line must be a JSON object {{\"question\": ..., \"context\": ...}}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { throw new InputException($"{where}: invalid JSON: {InputParsing.OneLine(e.Message)}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InputException($"{where}: expected an object {{\"question\": ..., \"context\": ...}}");
            string? question = null, context = null;
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "question": question = Text(p.Value, where, "question"); break;
                    case "context": context = Text(p.Value, where, "context"); break;
                    case "id": break;
                    default: throw new InputException($"{where}: unexpected key \"{p.Name}\" (allowed: \"question\", \"context\", \"id\")");
                }
            }
            if (question is null) throw new InputException($"{where}: missing \"question\"");
            if (context is null) throw new InputException($"{where}: missing \"context\"");
            return (question, context);
        }
    }

    private static string Text(JsonElement e, string where, string key)
    {
        if (e.ValueKind != JsonValueKind.String) throw new InputException($"{where}: \"{key}\" must be a string");
        try { return e.GetString()!; }
        catch (InvalidOperationException) { throw new InputException($"{where}: \"{key}\" is not valid Unicode text"); }
    }

    internal static void Write(JsonLineWriter json, QuestionAnswer[] answers, int topK)
    {
        var w = json.Begin();
        if (topK > 1)
        {
            w.WriteStartArray();
            foreach (var answer in answers) WriteAnswer(w, answer);
            w.WriteEndArray();
        }
        else if (answers.Length == 0) w.WriteNullValue();
        else WriteAnswer(w, answers[0]);
        json.End();
    }

    private static void WriteAnswer(Utf8JsonWriter w, QuestionAnswer a)
    {
        w.WriteStartObject();
        w.WriteString("answer", a.Answer);
        w.WritePropertyName("score");
        JsonValues.Float(w, a.Score);
        w.WriteNumber("start", a.Start);
        w.WriteNumber("end", a.End);
        w.WriteEndObject();
    }
}
