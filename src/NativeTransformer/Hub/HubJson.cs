using System.Text.Json.Serialization;

namespace NativeTransformer.Hub;

/// <summary>The part of <c>GET /api/models/{repo}/revision/{revision}</c> we use: the commit and the file list.</summary>
internal sealed class RepoRevisionInfo
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("sha")] public string? Sha { get; set; }
    [JsonPropertyName("siblings")] public List<RepoSibling>? Siblings { get; set; }
}

internal sealed class RepoSibling
{
    [JsonPropertyName("rfilename")] public string? FileName { get; set; }
}

/// <summary>modules.json entries (sentence-transformers): the module folders whose config files we fetch.</summary>
internal sealed class SentenceTransformersModule
{
    [JsonPropertyName("path")] public string? Path { get; set; }
}

/// <summary>model.safetensors.index.json: which shard holds each tensor.</summary>
internal sealed class ShardIndexFile
{
    [JsonPropertyName("weight_map")] public Dictionary<string, string>? WeightMap { get; set; }
}

// Source-generated so the hub client works under Native AOT and trimming.
[JsonSourceGenerationOptions(AllowTrailingCommas = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(RepoRevisionInfo))]
[JsonSerializable(typeof(List<SentenceTransformersModule>))]
[JsonSerializable(typeof(ShardIndexFile))]
internal sealed partial class HubJsonContext : JsonSerializerContext;
