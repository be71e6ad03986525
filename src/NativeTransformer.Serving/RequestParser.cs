using System.Text.Json;

namespace NativeTransformer.Serving;

/// <summary>A parsed /v1/embeddings or /v1/classify request.</summary>
/// <param name="PromptName">/v1/embeddings "prompt_name": a prompt of the model's config_sentence_transformers.json.</param>
/// <param name="Prompt">/v1/embeddings "prompt": literal text prepended to each input ("" = none).</param>
/// <summary>A parsed /v1/rerank request (the Cohere / Jina shape).</summary>
internal sealed record RerankRequest(string Model, string Query, string[] Documents, int? TopN, bool ReturnDocuments);

/// <param name="Dimensions">/v1/embeddings "dimensions": Matryoshka truncation to this many floats, renormalised.</param>
internal sealed record InferenceRequest(string Model, string[] Inputs, bool Base64, string? PromptName = null, string? Prompt = null, int? Dimensions = null);

/// <summary>
/// Reads request bodies by hand (JsonDocument, no reflection) so every mistake gets a message naming the
/// field and what was wrong with it, and the limits (inputs per request, text length) are checked here.
/// </summary>
internal static class RequestParser
{
    public static InferenceRequest Parse(ReadOnlyMemory<byte> body, ServeOptions limits, bool embeddings) =>
        ParseBody(body, "'input' and 'model'", root => Read(root, limits, embeddings));

    /// <summary>A /v1/rerank body: {"model", "query", "documents": [strings or {"text"} objects], "top_n"?, "return_documents"?}.</summary>
    public static RerankRequest ParseRerank(ReadOnlyMemory<byte> body, ServeOptions limits) =>
        ParseBody(body, "'model', 'query' and 'documents'", root => ReadRerank(root, limits));

    internal static T ParseBody<T>(ReadOnlyMemory<byte> body, string expected, Func<JsonElement, T> read)
    {
        if (body.Span.StartsWith("\uFEFF"u8)) body = body[3..];   // a UTF-8 byte order mark: allowed to be ignored (RFC 8259)
        if (body.IsEmpty) throw ApiException.BadRequest($"the request body is empty; expected a JSON object with {expected}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException e) { throw ApiException.BadRequest("the request body is not valid JSON: " + e.Message); }
        using (doc)
        {
            try { return read(doc.RootElement); }
            // A property name with a lone surrogate escape or invalid UTF-8 ("inpu\ud800t") makes TryGetProperty
            // throw while it unescapes names (found by the HTTP fuzzer: it was a 500).
            catch (InvalidOperationException)
            {
                throw ApiException.BadRequest("the request body has a property name that is not valid text: invalid UTF-8 bytes or an unpaired surrogate escape (\\uD800-\\uDFFF)");
            }
        }
    }

    private static InferenceRequest Read(JsonElement root, ServeOptions limits, bool embeddings)
    {
        string model = Model(root);

        if (!root.TryGetProperty("input", out var input))
            throw ApiException.BadRequest("'input' is missing: give a string or an array of strings");
        var inputs = Inputs(input, limits);

        bool base64 = false;
        if (root.TryGetProperty("encoding_format", out var f))
        {
            if (!embeddings) throw ApiException.BadRequest("'encoding_format' applies to /v1/embeddings only");
            base64 = f.ValueKind == JsonValueKind.String ? Text(f, "'encoding_format'") switch
            {
                "float" => false,
                "base64" => true,
                var other => throw ApiException.BadRequest($"'encoding_format' must be \"float\" or \"base64\", got \"{other}\""),
            } : throw ApiException.BadRequest($"'encoding_format' must be a string, got {Kind(f)}");
        }
        int? dimensions = null;
        if (root.TryGetProperty("dimensions", out var dims) && dims.ValueKind != JsonValueKind.Null)
        {
            if (!embeddings) throw ApiException.BadRequest("'dimensions' applies to /v1/embeddings only");
            if (dims.ValueKind != JsonValueKind.Number || !dims.TryGetInt32(out int d))
                throw ApiException.BadRequest($"'dimensions' must be a positive integer, got {(dims.ValueKind == JsonValueKind.Number ? dims.GetRawText() : Kind(dims))}");
            dimensions = d >= 1 ? d : throw ApiException.BadRequest($"'dimensions' must be at least 1, got {d}");
        }
        string? promptName = OptionalString(root, "prompt_name", embeddings), prompt = OptionalString(root, "prompt", embeddings);
        if (promptName is not null && prompt is not null) throw ApiException.BadRequest("give 'prompt_name' or 'prompt', not both");
        if (prompt is not null && prompt.Length > limits.MaxTextChars)
            throw ApiException.BadRequest($"'prompt' is {prompt.Length} characters long; the limit is {limits.MaxTextChars}");
        return new InferenceRequest(model, inputs, base64, promptName, prompt, dimensions);
    }

    /// <summary>The body's "model" (the body checked to be an object first).</summary>
    private static string Model(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw ApiException.BadRequest($"the request body must be a JSON object, got {Kind(root)}");
        return root.TryGetProperty("model", out var m)
            ? (m.ValueKind == JsonValueKind.String ? Text(m, "'model'") : throw ApiException.BadRequest($"'model' must be a string, got {Kind(m)}"))
            : throw ApiException.BadRequest("'model' is missing: name one of the served models (GET /v1/models)");
    }

    private static RerankRequest ReadRerank(JsonElement root, ServeOptions limits)
    {
        string model = Model(root);
        if (!root.TryGetProperty("query", out var q)) throw ApiException.BadRequest("'query' is missing: give the text to rank the documents against");
        string query = q.ValueKind == JsonValueKind.String ? Text(q, "'query'") : throw ApiException.BadRequest($"'query' must be a string, got {Kind(q)}");
        if (query.Length == 0) throw ApiException.BadRequest("'query' is empty");
        if (query.Length > limits.MaxTextChars) throw ApiException.BadRequest($"'query' is {query.Length} characters long; the limit is {limits.MaxTextChars}");

        if (!root.TryGetProperty("documents", out var docs)) throw ApiException.BadRequest("'documents' is missing: give an array of strings");
        if (docs.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest($"'documents' must be an array of strings, got {Kind(docs)}");
        int n = docs.GetArrayLength();
        if (n == 0) throw ApiException.BadRequest("'documents' is an empty array; give at least one document");
        if (n > limits.MaxInputs) throw ApiException.BadRequest($"'documents' has {n} items; the limit is {limits.MaxInputs} per request");
        var documents = new string[n];
        int i = 0;
        foreach (var d in docs.EnumerateArray())
        {
            string what = $"'documents[{i}]'";
            // Cohere's v1 API also takes {"text": ...} objects.
            var text = d.ValueKind == JsonValueKind.Object && d.TryGetProperty("text", out var t) ? t : d;
            documents[i] = text.ValueKind == JsonValueKind.String ? Text(text, what)
                : throw ApiException.BadRequest($"{what} must be a string or an object {{\"text\": string}}, got {Kind(d)}");
            if (documents[i].Length > limits.MaxTextChars)
                throw ApiException.BadRequest($"{what} is {documents[i].Length} characters long; the limit is {limits.MaxTextChars}");
            i++;
        }

        int? topN = null;
        if (root.TryGetProperty("top_n", out var top) && top.ValueKind != JsonValueKind.Null)
        {
            if (top.ValueKind != JsonValueKind.Number || !top.TryGetInt32(out int k))
                throw ApiException.BadRequest($"'top_n' must be a positive integer, got {(top.ValueKind == JsonValueKind.Number ? top.GetRawText() : Kind(top))}");
            topN = k >= 1 ? k : throw ApiException.BadRequest($"'top_n' must be at least 1, got {k}");
        }
        bool returnDocuments = false;
        if (root.TryGetProperty("return_documents", out var rd) && rd.ValueKind != JsonValueKind.Null)
            returnDocuments = rd.ValueKind is JsonValueKind.True or JsonValueKind.False ? rd.GetBoolean()
                : throw ApiException.BadRequest($"'return_documents' must be a boolean, got {Kind(rd)}");
        return new RerankRequest(model, query, documents, topN, returnDocuments);
    }

    /// <summary>A string field of /v1/embeddings that may be absent or null.</summary>
    private static string? OptionalString(JsonElement root, string name, bool embeddings)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (!embeddings) throw ApiException.BadRequest($"'{name}' applies to /v1/embeddings only");
        return v.ValueKind == JsonValueKind.String ? Text(v, $"'{name}'") : throw ApiException.BadRequest($"'{name}' must be a string, got {Kind(v)}");
    }

    private static string[] Inputs(JsonElement input, ServeOptions limits)
    {
        string[] texts;
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                texts = [Text(input, "'input'")];
                break;
            case JsonValueKind.Array:
                int n = input.GetArrayLength();
                if (n == 0) throw ApiException.BadRequest("'input' is an empty array; give at least one string");
                if (n > limits.MaxInputs)
                    throw ApiException.BadRequest($"'input' has {n} items; the limit is {limits.MaxInputs} per request");
                texts = new string[n];
                int i = 0;
                foreach (var item in input.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                        throw ApiException.BadRequest(item.ValueKind is JsonValueKind.Number or JsonValueKind.Array
                            ? $"'input[{i}]' is {Kind(item)}: token id arrays are not supported, send text"
                            : $"'input[{i}]' must be a string, got {Kind(item)}");
                    texts[i] = Text(item, $"'input[{i}]'");
                    i++;
                }
                break;
            default:
                throw ApiException.BadRequest($"'input' must be a string or an array of strings, got {Kind(input)}");
        }
        for (int i = 0; i < texts.Length; i++)
            if (texts[i].Length > limits.MaxTextChars)
                throw ApiException.BadRequest($"'input[{i}]' is {texts[i].Length} characters long; the limit is {limits.MaxTextChars}");
        return texts;
    }

    /// <summary>A JSON string's text. The parser accepts strings it cannot turn into UTF-16 (invalid UTF-8 bytes,
    /// a lone surrogate escape such as \ud800); GetString then throws InvalidOperationException, which would
    /// otherwise surface as a 500.</summary>
    internal static string Text(JsonElement e, string what)
    {
        try { return e.GetString()!; }
        catch (InvalidOperationException)
        {
            throw ApiException.BadRequest($"{what} is not valid text: invalid UTF-8 bytes or an unpaired surrogate escape (\\uD800-\\uDFFF)");
        }
    }

    internal static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };
}
