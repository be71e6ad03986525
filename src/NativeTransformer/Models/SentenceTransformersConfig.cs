using System.Text.Json;

namespace NativeTransformer.Models;

/// <summary>
/// The sentence-transformers conventions of a folder: <c>modules.json</c> naming a Pooling module, then optionally
/// Dense modules and Normalize (in that order, as sentence-transformers runs them), the pooling module's
/// <c>config.json</c>, and <c>sentence_bert_config.json</c>'s <c>max_seq_length</c>. Absent files mean "not a
/// sentence-transformers folder". Prompts (<c>config_sentence_transformers.json</c>) are read by <see cref="SentencePrompts"/>.
/// </summary>
public sealed record SentenceTransformersConfig(PoolingMode Pooling, bool Normalize, int? MaxSeqLength)
{
    /// <summary>The Dense modules after pooling, in modules.json order (empty for most models).</summary>
    public IReadOnlyList<DenseModuleConfig> Dense { get; init; } = [];

    /// <summary>The pooling config's <c>include_prompt</c> (default true). False means the prompt's tokens are left out
    /// of mean/max pooling, which this runtime does not do, so prompts are refused for such a folder.</summary>
    public bool IncludePrompt { get; init; } = true;

    /// <summary>Reads the folder's sentence-transformers files, or returns null when it has no Pooling module.</summary>
    public static SentenceTransformersConfig? Load(string directory)
    {
        string modulesPath = Path.Combine(directory, "modules.json");
        if (!File.Exists(modulesPath)) return null;
        string? poolingDir = null; bool normalize = false;
        var dense = new List<DenseModuleConfig>();
        using (var doc = Parse(modulesPath))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new ModelConfigException($"{modulesPath}: expected a JSON array of modules");
            foreach (var m in doc.RootElement.EnumerateArray())
            {
                string type = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                string path = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
                if (type.EndsWith(".Pooling", StringComparison.Ordinal)) poolingDir = CheckInside(modulesPath, path);
                else if (type.EndsWith(".Normalize", StringComparison.Ordinal)) normalize = true;
                else if (type.EndsWith(".Dense", StringComparison.Ordinal))
                {
                    // Pooling → Dense → Normalize is the only order that makes sense for an embedding; anything else is refused
                    // rather than run in a different order than sentence-transformers would.
                    if (poolingDir is null || normalize)
                        throw new ModelConfigException($"{modulesPath}: a Dense module must come after Pooling and before Normalize");
                    dense.Add(DenseModuleConfig.Load(directory, CheckInside(modulesPath, path)));
                }
            }
        }
        if (poolingDir is null) return null;

        var mode = PoolingMode.Mean;
        bool includePrompt = true;
        string poolingConfig = Path.Combine(directory, poolingDir, "config.json");
        if (File.Exists(poolingConfig))
        {
            using var doc = Parse(poolingConfig);
            bool Flag(string name) => doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
            if (Flag("pooling_mode_mean_sqrt_len_tokens") || Flag("pooling_mode_weightedmean_tokens") || Flag("pooling_mode_lasttoken"))
                throw new ModelConfigException($"{poolingConfig}: only mean, cls and max pooling are supported");
            mode = Flag("pooling_mode_cls_token") ? PoolingMode.Cls : Flag("pooling_mode_max_tokens") ? PoolingMode.Max : PoolingMode.Mean;
            includePrompt = !(doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("include_prompt", out var ip) && ip.ValueKind == JsonValueKind.False);
        }

        int? maxSeq = null;
        string sbert = Path.Combine(directory, "sentence_bert_config.json");
        if (File.Exists(sbert))
        {
            using var doc = Parse(sbert);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("max_seq_length", out var v) && v.TryGetInt32(out int n) && n > 0) maxSeq = n;
        }
        return new SentenceTransformersConfig(mode, normalize, maxSeq) { Dense = dense, IncludePrompt = includePrompt };
    }

    private static string CheckInside(string modulesPath, string path)
    {
        if (Path.IsPathRooted(path) || path.Split('/', '\\').Contains(".."))
            throw new ModelConfigException($"{modulesPath}: module path \"{path}\" leaves the model folder");
        return path;
    }

    internal static JsonDocument Parse(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 32, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new ModelConfigException($"{path}: not valid JSON: {e.Message}", e); }
        catch (IOException e) { throw new ModelConfigException($"{path}: cannot read: {e.Message}", e); }
    }
}
