using System.Text.Json;
using System.Text.Json.Serialization;

namespace NativeTransformer.Serving;

// Response shapes. Serialized through the source-generated ApiJsonContext only (no reflection, AOT-safe).
// Property names are snake_case on the wire (prompt_tokens, owned_by, ...).

internal sealed record EmbeddingsResponse<TItem>(string Object, TItem[] Data, string Model, Usage Usage);
internal sealed record FloatEmbedding(string Object, int Index, float[] Embedding);
/// <summary>encoding_format "base64": the little-endian float32 bytes, base64 — what OpenAI clients ask for by default.</summary>
internal sealed record Base64Embedding(string Object, int Index, string Embedding);
internal sealed record Usage(int PromptTokens, int TotalTokens);

internal sealed record ClassifyResponse(ClassifyItem[] Data, string Model, Usage Usage);
/// <summary>One input's classification: the best label and its score, the logits, every label's score and how the scores
/// were made (score_function: softmax, sigmoid or identity, from config.json problem_type and the label count).</summary>
internal sealed record ClassifyItem(int Index, string Label, float Score, float[] Logits, float[] Scores, string ScoreFunction);

/// <summary>POST /v1/rerank's answer, as Cohere and Jina write it: results best first.</summary>
internal sealed record RerankResponse(string Model, RerankItem[] Results, Usage Usage);
internal sealed record RerankItem(int Index, float RelevanceScore,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RerankDocument? Document);
/// <summary>"document" with return_documents: {"text": ...} as Cohere and Jina return it.</summary>
internal sealed record RerankDocument(string Text);

internal sealed record ModelList(string Object, ModelInfo[] Data);
internal sealed record ModelInfo(string Id, string Object, string OwnedBy, bool Loaded, string Path);

internal sealed record Health(string Status, int ModelsLoaded);

/// <summary>POST /debug/gc: the managed heap right after a forced full compacting collection.</summary>
internal sealed record GcReport(long LiveBytes, long HeapSizeBytes, long FragmentedBytes, long CommittedBytes, long ResidentBytes,
    int Gen0Collections, int Gen1Collections, int Gen2Collections, long RequestsServed, Dictionary<string, string> GcConfig);

internal sealed record ErrorResponse(ErrorBody Error);
internal sealed record ErrorBody(string Message, string Type);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EmbeddingsResponse<FloatEmbedding>))]
[JsonSerializable(typeof(EmbeddingsResponse<Base64Embedding>))]
[JsonSerializable(typeof(ClassifyResponse))]
[JsonSerializable(typeof(RerankResponse))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(Health))]
[JsonSerializable(typeof(GcReport))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>The context the server writes with: like <see cref="Default"/> but without escaping ' &lt; &gt; &amp; and
    /// non-ASCII as \uXXXX (responses are JSON bodies, never embedded in HTML).</summary>
    public static ApiJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    });
}

/// <summary>A request that fails with an HTTP status and an OpenAI-style error body {"error":{"message","type"}}.</summary>
internal sealed class ApiException(int status, string type, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    /// <summary>Sent as the Retry-After header (429 / 503).</summary>
    public int? RetryAfterSeconds { get; init; }
    /// <summary>The TEI routes' "error_type" when the status alone does not say it (e.g. "Tokenizer").</summary>
    public string? TeiType { get; init; }

    public static ApiException BadRequest(string message) => new(400, "invalid_request_error", message);
    public static ApiException NotFound(string message) => new(404, "not_found_error", message);
}
