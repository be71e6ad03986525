using System.Text.Json;

namespace NativeTransformer.Serving;

/// <summary>A parsed TEI request: inputs (texts or (text, pair) pairs), the served model, and the flags of its route.</summary>
internal sealed record TeiRequest(string? Model, TextInput[] Inputs, bool Batched, bool Truncate, bool Normalize = true, bool RawScores = false,
    bool ReturnText = false, bool AddSpecialTokens = true, string? PromptName = null, int? Dimensions = null, string Query = "");

/// <summary>A parsed /decode request: one id sequence per output string.</summary>
internal sealed record TeiDecodeRequest(string? Model, int[][] Ids, bool SkipSpecialTokens);

/// <summary>Reads the TEI routes' bodies (JsonDocument by hand, no reflection), naming the field that is wrong.</summary>
internal static class TeiRequests
{
    /// <summary>/embed, /tokenize: {"inputs": string | [string, ...], ...}.</summary>
    public static TeiRequest ParseTexts(ReadOnlyMemory<byte> body, ServeOptions limits) =>
        RequestParser.ParseBody(body, "'inputs'", root =>
        {
            var input = Required(root, "inputs", "give a string or an array of strings");
            bool batched = input.ValueKind == JsonValueKind.Array;
            var texts = batched ? Strings(input, "'inputs'", limits) : [String(input, "'inputs'", limits)];
            return new TeiRequest(Model(root), Inputs(texts), batched, Bool(root, "truncate", false), Bool(root, "normalize", true),
                AddSpecialTokens: Bool(root, "add_special_tokens", true), PromptName: OptionalString(root, "prompt_name"), Dimensions: Dimensions(root));
        });

    /// <summary>/predict: "inputs" is a string, a pair [a, b], a one-text array [a], or a batch of such arrays.</summary>
    public static TeiRequest ParsePredict(ReadOnlyMemory<byte> body, ServeOptions limits) =>
        RequestParser.ParseBody(body, "'inputs'", root =>
        {
            var input = Required(root, "inputs", "give a string, a pair [text, text] or a batch [[text], [text, text], ...]");
            TextInput[] inputs;
            bool batched = input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0 && input[0].ValueKind == JsonValueKind.Array;
            if (input.ValueKind == JsonValueKind.String) inputs = [new TextInput(String(input, "'inputs'", limits))];
            else if (!batched) inputs = [Pair(input, "'inputs'", limits)];
            else
            {
                Count(input, "'inputs'", limits);
                inputs = new TextInput[input.GetArrayLength()];
                for (int i = 0; i < inputs.Length; i++) inputs[i] = Pair(input[i], $"'inputs[{i}]'", limits);
            }
            return new TeiRequest(Model(root), inputs, batched, Bool(root, "truncate", false), RawScores: Bool(root, "raw_scores", false));
        });

    /// <summary>/rerank: {"query", "texts": [...], "return_text"?, "raw_scores"?, "truncate"?}.</summary>
    public static TeiRequest ParseRerank(ReadOnlyMemory<byte> body, ServeOptions limits) =>
        RequestParser.ParseBody(body, "'query' and 'texts'", root =>
        {
            string query = String(Required(root, "query", "give the text to rank the texts against"), "'query'", limits);
            var texts = Strings(Required(root, "texts", "give an array of strings"), "'texts'", limits);
            return new TeiRequest(Model(root), Inputs(texts), true, Bool(root, "truncate", false), RawScores: Bool(root, "raw_scores", false),
                ReturnText: Bool(root, "return_text", false), Query: query);
        });

    /// <summary>/similarity: {"inputs": {"source_sentence", "sentences": [...]}, "parameters"?: {"truncate", "prompt_name"}};
    /// the inputs are the source sentence first, then the sentences.</summary>
    public static TeiRequest ParseSimilarity(ReadOnlyMemory<byte> body, ServeOptions limits) =>
        RequestParser.ParseBody(body, "'inputs': {'source_sentence', 'sentences'}", root =>
        {
            var inputs = Required(root, "inputs", "give {\"source_sentence\": text, \"sentences\": [text, ...]}");
            if (inputs.ValueKind != JsonValueKind.Object) throw Invalid($"'inputs' must be an object {{\"source_sentence\", \"sentences\"}}, got {RequestParser.Kind(inputs)}");
            string source = String(Required(inputs, "source_sentence", "give a text"), "'inputs.source_sentence'", limits);
            var sentences = Strings(Required(inputs, "sentences", "give an array of strings"), "'inputs.sentences'", limits);
            bool truncate = false;
            string? promptName = null;
            if (root.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object)
            {
                truncate = Bool(p, "truncate", false);
                promptName = OptionalString(p, "prompt_name");
            }
            return new TeiRequest(Model(root), Inputs([source, .. sentences]), true, truncate, PromptName: promptName);
        });

    /// <summary>/decode: {"ids": [id, ...] | [[id, ...], ...], "skip_special_tokens"?: true}. Ids are TEI's u32: a
    /// negative, fractional or non-number id is a 422 naming its place; whether it is in the vocabulary is the model's
    /// check. An empty sequence is refused too (TEI's "`ids` cannot be empty"): it is nearly always a client bug.</summary>
    public static TeiDecodeRequest ParseDecode(ReadOnlyMemory<byte> body, ServeOptions limits) =>
        RequestParser.ParseBody(body, "'ids'", root =>
        {
            var ids = Required(root, "ids", "give an array of token ids or an array of such arrays");
            if (ids.ValueKind != JsonValueKind.Array) throw Invalid($"'ids' must be an array of token ids or of arrays of token ids, got {RequestParser.Kind(ids)}");
            int[][] sequences;
            if (ids.GetArrayLength() > 0 && ids[0].ValueKind == JsonValueKind.Array)
            {
                Count(ids, "'ids'", limits);
                sequences = new int[ids.GetArrayLength()][];
                for (int i = 0; i < sequences.Length; i++)
                {
                    if (ids[i].ValueKind != JsonValueKind.Array)
                        throw Invalid($"'ids[{i}]' must be an array of token ids like 'ids[0]', got {RequestParser.Kind(ids[i])}");
                    sequences[i] = Ids(ids[i], $"ids[{i}]");
                }
            }
            else sequences = [Ids(ids, "ids")];
            return new TeiDecodeRequest(Model(root), sequences, Bool(root, "skip_special_tokens", true));
        });

    private static int[] Ids(JsonElement array, string what)
    {
        int n = array.GetArrayLength();
        if (n == 0) throw Invalid($"'{what}' is an empty array; give at least one token id");
        var ids = new int[n];
        for (int i = 0; i < n; i++)
        {
            var e = array[i];
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out ids[i]) || ids[i] < 0)
                throw Invalid($"'{what}[{i}]' must be a non-negative integer token id, got {(e.ValueKind == JsonValueKind.Number ? e.GetRawText() : RequestParser.Kind(e))}");
        }
        return ids;
    }

    private static ApiException Invalid(string message) => new(422, "invalid_request_error", message);

    private static JsonElement Required(JsonElement obj, string name, string hint)
    {
        if (obj.ValueKind != JsonValueKind.Object) throw Invalid($"the request body must be a JSON object, got {RequestParser.Kind(obj)}");
        return obj.TryGetProperty(name, out var v) ? v : throw Invalid($"'{name}' is missing: {hint}");
    }

    /// <summary>The optional "model" (default: the first --model).</summary>
    private static string? Model(JsonElement root) =>
        !root.TryGetProperty("model", out var m) || m.ValueKind == JsonValueKind.Null ? null
        : m.ValueKind == JsonValueKind.String ? RequestParser.Text(m, "'model'") : throw Invalid($"'model' must be a string, got {RequestParser.Kind(m)}");

    private static bool Bool(JsonElement root, string name, bool otherwise) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? otherwise
        : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Invalid($"'{name}' must be a boolean, got {RequestParser.Kind(v)}");

    private static string? OptionalString(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? RequestParser.Text(v, $"'{name}'") : throw Invalid($"'{name}' must be a string, got {RequestParser.Kind(v)}");

    private static int? Dimensions(JsonElement root)
    {
        if (!root.TryGetProperty("dimensions", out var d) || d.ValueKind == JsonValueKind.Null) return null;
        if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int n) || n < 1)
            throw Invalid($"'dimensions' must be a positive integer, got {(d.ValueKind == JsonValueKind.Number ? d.GetRawText() : RequestParser.Kind(d))}");
        return n;
    }

    private static string String(JsonElement e, string what, ServeOptions limits)
    {
        if (e.ValueKind != JsonValueKind.String) throw Invalid($"{what} must be a string, got {RequestParser.Kind(e)}");
        string text = RequestParser.Text(e, what);
        if (text.Length == 0) throw Invalid($"{what} is empty");
        if (text.Length > limits.MaxTextChars) throw Invalid($"{what} is {text.Length} characters long; the limit is {limits.MaxTextChars}");
        return text;
    }

    /// <summary>A client batch: 422 when empty, 413 above --max-inputs (TEI's max_client_batch_size).</summary>
    private static void Count(JsonElement array, string what, ServeOptions limits)
    {
        int n = array.GetArrayLength();
        if (n == 0) throw Invalid($"{what} is an empty array; give at least one input");
        if (n > limits.MaxInputs)
            throw new ApiException(413, "payload_too_large", $"{what} has {n} items; the limit is {limits.MaxInputs} per request (--max-inputs, TEI's max_client_batch_size)") { TeiType = "Validation" };
    }

    private static string[] Strings(JsonElement array, string what, ServeOptions limits)
    {
        if (array.ValueKind != JsonValueKind.Array) throw Invalid($"{what} must be an array of strings, got {RequestParser.Kind(array)}");
        Count(array, what, limits);
        var texts = new string[array.GetArrayLength()];
        for (int i = 0; i < texts.Length; i++) texts[i] = String(array[i], $"{what.TrimEnd('\'')}[{i}]'", limits);
        return texts;
    }

    private static TextInput Pair(JsonElement e, string what, ServeOptions limits)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() is not (1 or 2))
            throw Invalid($"{what} must be a string, [text] or a pair [text, text], got {(e.ValueKind == JsonValueKind.Array ? $"an array of {e.GetArrayLength()} items" : RequestParser.Kind(e))}");
        string a = String(e[0], $"{what.TrimEnd('\'')}[0]'", limits);
        return e.GetArrayLength() == 1 ? new TextInput(a) : new TextInput(a, String(e[1], $"{what.TrimEnd('\'')}[1]'", limits));
    }

    private static TextInput[] Inputs(string[] texts)
    {
        var inputs = new TextInput[texts.Length];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = new TextInput(texts[i]);
        return inputs;
    }
}
