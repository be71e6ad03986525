using System.Text.Json;

namespace NativeTransformer.Hub;

/// <summary>
/// Which files of a hub repository a model folder needs: config, tokenizer files, safetensors weights (one file,
/// or the index and then its shards) and the sentence-transformers module configs. Never pickle (.bin) weights,
/// ONNX, TF or Flax files. Selection is in two steps because shards and module configs are only known once
/// the index and modules.json have been read.
/// </summary>
internal static class ModelFileSelection
{
    public const string SingleWeights = "model.safetensors";
    public const string WeightsIndex = "model.safetensors.index.json";
    public const string Modules = "modules.json";

    private static readonly string[] RootFiles =
    [
        "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "added_tokens.json",
        Modules, "sentence_bert_config.json", "config_sentence_transformers.json",
    ];

    /// <summary>First step: root files present in the repository, and the weights (single file preferred).</summary>
    public static List<string> Initial(IReadOnlyCollection<string> siblings, string repo)
    {
        var have = new HashSet<string>(siblings, StringComparer.Ordinal);
        if (!have.Contains("config.json")) throw new HubException($"{repo}: the repository has no config.json; it is not a transformers model");
        var files = RootFiles.Where(have.Contains).ToList();
        if (have.Contains(SingleWeights)) files.Add(SingleWeights);
        else if (have.Contains(WeightsIndex)) files.Add(WeightsIndex);
        else
        {
            string others = string.Join(", ", siblings.Where(s => s.EndsWith(".bin") || s.EndsWith(".h5") || s.EndsWith(".onnx") || s.EndsWith(".msgpack")).Take(3));
            throw new HubException($"{repo}: the repository has no model.safetensors (or sharded model.safetensors.index.json)" +
                (others.Length > 0 ? $"; only {others}, which is not loaded (pickle/other formats are never used)" : ""));
        }
        return files;
    }

    /// <summary>Second step: shards named by the index and the sentence-transformers modules' files, read from
    /// the already downloaded first-step files (<paramref name="localPath"/> maps a repo file name to its blob).</summary>
    public static List<string> FollowUps(IReadOnlyCollection<string> siblings, IReadOnlyCollection<string> initial, Func<string, string> localPath, string repo)
    {
        var have = new HashSet<string>(siblings, StringComparer.Ordinal);
        var files = new List<string>();
        if (initial.Contains(WeightsIndex))
        {
            var index = Read(localPath(WeightsIndex), HubJsonContext.Default.ShardIndexFile, repo, WeightsIndex);
            foreach (var shard in ((IEnumerable<string>?)index?.WeightMap?.Values ?? []).Distinct().Order(StringComparer.Ordinal))
            {
                if (!have.Contains(shard)) throw new HubException($"{repo}: {WeightsIndex} names shard '{shard}', which the repository does not have");
                if (!IsSafeRelative(shard)) throw new HubException($"{repo}: {WeightsIndex} names an unsafe shard path '{shard}'");
                files.Add(shard);
            }
        }
        if (initial.Contains(Modules))
        {
            var modules = Read(localPath(Modules), HubJsonContext.Default.ListSentenceTransformersModule, repo, Modules) ?? [];
            foreach (var m in modules)
            {
                if (string.IsNullOrEmpty(m.Path) || !IsSafeRelative(m.Path)) continue;
                string prefix = m.Path.TrimEnd('/') + "/";
                // Module folders hold small JSON configs (1_Pooling/config.json); their weights, if any, are not ours.
                files.AddRange(siblings.Where(s => s.StartsWith(prefix, StringComparison.Ordinal) && s.EndsWith(".json", StringComparison.Ordinal)
                    && s.IndexOf('/', prefix.Length) < 0).Order(StringComparer.Ordinal));
            }
        }
        return files.Distinct().Where(f => !initial.Contains(f)).ToList();
    }

    /// <summary>A repository-relative path that stays inside the snapshot folder.</summary>
    public static bool IsSafeRelative(string path) =>
        path.Length > 0 && !path.StartsWith('/') && !path.Contains('\\') && !path.Split('/').Any(p => p is "" or "." or "..");

    private static T? Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string repo, string name)
    {
        try
        {
            using var s = File.OpenRead(path);
            return JsonSerializer.Deserialize(s, type);
        }
        catch (JsonException e)
        {
            throw new HubException($"{repo}: {name} is not valid JSON: {e.Message}", e);
        }
    }
}
