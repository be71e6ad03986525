using System.Text.Json;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr tokenize</c>: the tokens of each input (any tokenizer family TokenizerLoader reads); needs only the tokenizer files of a folder.</summary>
internal static class TokenizeCommand
{
    public const string Name = "tokenize";

    public static readonly CommandSpec Spec = new(
        Name,
        "Tokenize text with a model folder's tokenizer (tokenizer.json, or vocab.txt / vocab.json + merges.txt; no weights needed).",
        "ntr tokenize [--model DIR|OWNER/NAME] [--input FILE] [--jsonl] [--max-length N]",
        [Common.Model, Common.Input, Common.Jsonl,
         new("--max-length", "N", "Truncate to N tokens incl. special tokens (default: no truncation).")],
        Details:
            "Each output line: {\"text\", \"text_pair\" (when given), \"input_ids\", \"token_type_ids\", \"tokens\",\n" +
            "\"offsets\": [[start, end], ...]} with [CLS]/[SEP] included and no padding. Offsets index the input\n" +
            "string of the token's segment in UTF-16 code units; special tokens have [0, 0].\n\n" + Common.LineInputHelp);

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        int? maxLength = a.PositiveInt("--max-length");
        string dir = Common.ModelDir(a, ctx);
        Common.CheckInputFile(a.Get("--input"));
        var tokenizer = TokenizerLoader.FromDirectory(dir);
        var json = new JsonLineWriter(ctx.Stdout);
        Common.StreamChunks(a, ctx, chunk =>
        {
            foreach (var input in chunk)
                Write(json, input, tokenizer.Encode(input.Text, input.TextPair, maxLength));
        });
        return CliApp.ExitOk;
    }

    internal static void Write(JsonLineWriter json, TextInput input, Encoding e)
    {
        var w = json.Begin();
        w.WriteStartObject();
        JsonValues.Input(w, input);
        JsonValues.IntArray(w, "input_ids", e.Ids);
        JsonValues.IntArray(w, "token_type_ids", e.TypeIds);
        w.WriteStartArray("tokens");
        foreach (var t in e.Tokens) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartArray("offsets");
        foreach (var (start, end) in e.Offsets)
        {
            w.WriteStartArray();
            w.WriteNumberValue(start);
            w.WriteNumberValue(end);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        json.End();
    }
}
