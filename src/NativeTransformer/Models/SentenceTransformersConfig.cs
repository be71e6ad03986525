using System.Text.Json;

namespace NativeTransformer.Models;

/// <summary>
/// The sentence-transformers conventions of a folder: <c>modules.json</c> naming a Pooling module
/// (and optionally Normalize), the pooling module's <c>config.json</c>, and
/// <c>sentence_bert_config.json</c>'s <c>max_seq_length</c>. Absent files mean "not a sentence-transformers folder".
/// </summary>
public sealed record SentenceTransformersConfig(PoolingMode Pooling, bool Normalize, int? MaxSeqLength)
{
    /// <summary>Reads the folder's sentence-transformers files, or returns null when it has no Pooling module.</summary>
    public static SentenceTransformersConfig? Load(string directory)
    {
        string modulesPath = Path.Combine(directory, "modules.json");
        if (!File.Exists(modulesPath)) return null;
        string? poolingDir = null; bool normalize = false;
        using (var doc = Parse(modulesPath))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new ModelConfigException($"{modulesPath}: expected a JSON array of modules");
            foreach (var m in doc.RootElement.EnumerateArray())
            {
                string type = m.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                string path = m.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
                if (type.EndsWith(".Pooling", StringComparison.Ordinal)) poolingDir = path;
                else if (type.EndsWith(".Normalize", StringComparison.Ordinal)) normalize = true;
            }
        }
        if (poolingDir is null) return null;
        if (Path.IsPathRooted(poolingDir) || poolingDir.Split('/', '\\').Contains(".."))
            throw new ModelConfigException($"{modulesPath}: module path \"{poolingDir}\" leaves the model folder");

        var mode = PoolingMode.Mean;
        string poolingConfig = Path.Combine(directory, poolingDir, "config.json");
        if (File.Exists(poolingConfig))
        {
            using var doc = Parse(poolingConfig);
            bool Flag(string name) => doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
            if (Flag("pooling_mode_mean_sqrt_len_tokens") || Flag("pooling_mode_weightedmean_tokens") || Flag("pooling_mode_lasttoken"))
                throw new ModelConfigException($"{poolingConfig}: only mean, cls and max pooling are supported");
            mode = Flag("pooling_mode_cls_token") ? PoolingMode.Cls : Flag("pooling_mode_max_tokens") ? PoolingMode.Max : PoolingMode.Mean;
        }

        int? maxSeq = null;
        string sbert = Path.Combine(directory, "sentence_bert_config.json");
        if (File.Exists(sbert))
        {
            using var doc = Parse(sbert);
            if (doc.RootElement.TryGetProperty("max_seq_length", out var v) && v.TryGetInt32(out int n) && n > 0) maxSeq = n;
        }
        return new SentenceTransformersConfig(mode, normalize, maxSeq);
    }

    private static JsonDocument Parse(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 32, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new ModelConfigException($"{path}: not valid JSON: {e.Message}", e); }
        catch (IOException e) { throw new ModelConfigException($"{path}: cannot read: {e.Message}", e); }
    }
}
