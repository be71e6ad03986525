using System.Text.Json;
using System.Text.Unicode;

namespace NativeTransformer.Weights;

/// <summary>
/// A parsed and validated <c>model.safetensors.index.json</c>: <c>{"metadata": {...}, "weight_map": {tensor: shard}}</c>.
/// </summary>
/// <remarks>
/// Shard names must be plain file names inside the checkpoint folder: not empty, not rooted, without <c>/</c> or
/// <c>\</c>, not <c>.</c> or <c>..</c>, no control characters. This refuses path traversal (<c>../x</c>,
/// <c>/etc/passwd</c>) without resolving anything on disk. (Hugging Face writes shards beside the index, so nothing
/// legitimate is lost.) Shard files may themselves be symbolic links, as in the Hugging Face cache.
/// </remarks>
internal sealed class ShardIndex
{
    /// <summary>Largest index file accepted (a real index of a huge model is a few MB).</summary>
    public const long MaxIndexBytes = 100_000_000;

    private const int MaxDepth = 16;

    /// <summary>Shard file names in order of first appearance in <c>weight_map</c>.</summary>
    public required IReadOnlyList<string> ShardFiles { get; init; }

    /// <summary>Tensor name → shard file name.</summary>
    public required IReadOnlyDictionary<string, string> WeightMap { get; init; }

    /// <summary><c>metadata</c> entries; strings as-is, other scalars as their JSON text, nested values as raw JSON.</summary>
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    public static ShardIndex Load(string indexPath)
    {
        byte[] bytes;
        try
        {
            long length = new FileInfo(indexPath).Length;
            if (length > MaxIndexBytes) throw Invalid(indexPath, null, $"the index is {length} bytes, over the {MaxIndexBytes}-byte limit");
            bytes = File.ReadAllBytes(indexPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SafetensorsException(SafetensorsError.Io, indexPath, null, $"cannot read the shard index: {e.Message}");
        }
        if (!Utf8.IsValid(bytes)) throw Invalid(indexPath, null, "the index is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw Invalid(indexPath, null, $"the index is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(indexPath, null, "the index must be a JSON object");

            JsonElement? weightMapElement = null;
            JsonElement? metadataElement = null;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("weight_map"))
                {
                    if (weightMapElement is not null) throw Invalid(indexPath, null, "\"weight_map\" appears twice");
                    weightMapElement = property.Value;
                }
                else if (property.NameEquals("metadata"))
                {
                    if (metadataElement is not null) throw Invalid(indexPath, null, "\"metadata\" appears twice");
                    metadataElement = property.Value;
                }
            }
            if (weightMapElement is not { ValueKind: JsonValueKind.Object } weightMapObject)
                throw Invalid(indexPath, null, "the index needs a \"weight_map\" object mapping tensor names to shard files");

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            var shardFiles = new List<string>();
            var seenShards = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in weightMapObject.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw Invalid(indexPath, entry.Name, "the weight_map value must be a shard file name (a string)");
                string shard = entry.Value.GetString()!;
                CheckShardName(shard, indexPath, entry.Name);
                if (!weightMap.TryAdd(entry.Name, shard))
                    throw Invalid(indexPath, entry.Name, "the tensor appears twice in weight_map");
                if (seenShards.Add(shard)) shardFiles.Add(shard);
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (metadataElement is { } m && m.ValueKind != JsonValueKind.Null)
            {
                if (m.ValueKind != JsonValueKind.Object) throw Invalid(indexPath, null, "\"metadata\" must be an object");
                foreach (var p in m.EnumerateObject())
                    metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
            return new ShardIndex { ShardFiles = shardFiles, WeightMap = weightMap, Metadata = metadata };
        }
    }

    /// <summary>Refuses any shard name that is not a plain file name in the index's folder.</summary>
    private static void CheckShardName(string shard, string indexPath, string tensor)
    {
        string? why =
            shard.Length == 0 ? "is empty"
            : Path.IsPathRooted(shard) ? "is an absolute path"
            : shard.Contains('/') || shard.Contains('\\') ? "contains a directory separator"
            : shard is "." or ".." ? "is not a file name"
            : shard.Any(char.IsControl) ? "contains control characters"
            : null;
        if (why is not null)
            throw Invalid(indexPath, tensor, $"shard path \"{shard}\" {why}; shards must be plain file names beside the index (path traversal is refused)");
    }

    internal static SafetensorsException Invalid(string indexPath, string? tensor, string message) =>
        new(SafetensorsError.InvalidIndex, indexPath, tensor, message);
}
