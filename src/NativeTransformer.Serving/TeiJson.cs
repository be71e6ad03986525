using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace NativeTransformer.Serving;

// The text-embeddings-inference (TEI) routes' response shapes, written through the source-generated TeiJsonContext only.

/// <summary>TEI's error body: {"error": message, "error_type": "Validation" | "Overloaded" | "Tokenizer" | "Backend" | "Unhealthy"}.</summary>
internal sealed record TeiError(string Error, string ErrorType);
internal sealed record TeiPrediction(string Label, float Score);
internal sealed record TeiRank(int Index, float Score, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Text);
/// <summary>One token of /tokenize: start/stop are UTF-8 byte offsets into the input (as TEI's), null for special tokens.</summary>
internal sealed record TeiToken(int Id, string Text, bool Special, int? Start, int? Stop);
internal sealed record TeiEmbeddingModel(string Pooling);
internal sealed record TeiClassifierModel(Dictionary<string, string> Id2label, Dictionary<string, int> Label2id);
/// <summary>TEI's model_type: exactly one of the three is set.</summary>
internal sealed record TeiModelType(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TeiEmbeddingModel? Embedding,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TeiClassifierModel? Classifier,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TeiClassifierModel? Reranker);
internal sealed record TeiInfo(string ModelId, string ModelDtype, TeiModelType ModelType, int MaxConcurrentRequests, int MaxInputLength,
    int MaxBatchTokens, int MaxBatchRequests, int MaxClientBatchSize, bool AutoTruncate, int TokenizationWorkers, string Version, string[] ServedModels);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TeiError))]
[JsonSerializable(typeof(float[][]))]
[JsonSerializable(typeof(float[][][]))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(TeiPrediction[]))]
[JsonSerializable(typeof(TeiPrediction[][]))]
[JsonSerializable(typeof(TeiRank[]))]
[JsonSerializable(typeof(TeiToken[][]))]
[JsonSerializable(typeof(TeiInfo))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class TeiJsonContext : JsonSerializerContext
{
    /// <summary>As <see cref="ApiJsonContext.Api"/>: no HTML escaping, snake_case names.</summary>
    public static TeiJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    });

    public static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Api.GetTypeInfo(typeof(T))!;
}
