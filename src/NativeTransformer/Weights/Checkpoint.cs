namespace NativeTransformer.Weights;

/// <summary>Opens the weights of a Hugging Face model folder.</summary>
public static class Checkpoint
{
    /// <summary>The single-file weights name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The shard index name of a sharded checkpoint.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>
    /// <c>model.safetensors</c>, or the shards named by <c>model.safetensors.index.json</c>, in <paramref name="directory"/>.
    /// Throws <see cref="SafetensorsException"/> (bad files, index pointing outside the folder) or
    /// <see cref="NativeTransformerException"/> (no weights file in the folder).
    /// </summary>
    /// <remarks>
    /// <c>model.safetensors</c> wins when both exist, as in <c>transformers</c>. For a sharded checkpoint every shard
    /// is opened once and validated; the index must list only tensors that exist in the named shard, and no tensor may
    /// be stored in two shards (both <see cref="SafetensorsError.InvalidIndex"/>). Tensors a shard holds beyond those
    /// the index lists are still exposed, as <c>transformers</c> loads whole shards.
    /// </remarks>
    public static ITensorSource Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string dir = Path.GetFullPath(directory);
        if (!Directory.Exists(dir))
            throw new NativeTransformerException($"{dir}: the model folder does not exist");

        string single = Path.Combine(dir, SingleFileName);
        if (File.Exists(single)) return SafetensorsFile.Open(single);

        string index = Path.Combine(dir, IndexFileName);
        if (File.Exists(index)) return OpenSharded(dir, index);

        throw NoWeights(dir);
    }

    private static ITensorSource OpenSharded(string dir, string indexPath)
    {
        var index = ShardIndex.Load(indexPath);
        if (index.WeightMap.Count == 0)
            throw ShardIndex.Invalid(indexPath, null, "weight_map is empty");

        var shards = new List<SafetensorsFile>(index.ShardFiles.Count);
        bool ok = false;
        try
        {
            var holder = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string shardName in index.ShardFiles)
            {
                string shardPath = Path.Combine(dir, shardName);
                if (!File.Exists(shardPath))
                {
                    string example = index.WeightMap.First(kv => kv.Value == shardName).Key;
                    throw ShardIndex.Invalid(indexPath, example, $"shard file \"{shardName}\" named in weight_map does not exist in {dir}");
                }
                var shard = SafetensorsFile.Open(shardPath);
                shards.Add(shard);
                foreach (var t in shard.Tensors)
                    if (!holder.TryAdd(t.Name, shardName))
                        throw ShardIndex.Invalid(indexPath, t.Name, $"the tensor is stored in two shards, \"{holder[t.Name]}\" and \"{shardName}\"");
            }
            foreach (var (tensor, shardName) in index.WeightMap)
            {
                if (!holder.TryGetValue(tensor, out var actual))
                    throw ShardIndex.Invalid(indexPath, tensor, $"weight_map puts the tensor in \"{shardName}\" but no shard contains it");
                if (actual != shardName)
                    throw ShardIndex.Invalid(indexPath, tensor, $"weight_map puts the tensor in \"{shardName}\" but it is in \"{actual}\"");
            }
            var source = new ShardedTensorSource(indexPath, shards, index.Metadata);
            ok = true;
            return source;
        }
        finally
        {
            if (!ok) foreach (var s in shards) s.Dispose();
        }
    }

    private static NativeTransformerException NoWeights(string dir)
    {
        string[] otherFormats = ["pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack", "model.ckpt.index", "model.onnx", "onnx/model.onnx"];
        var found = otherFormats.Where(f => File.Exists(Path.Combine(dir, f))).ToList();
        string looked = $"looked for {SingleFileName} and {IndexFileName}";
        if (found.Count > 0)
            return new NativeTransformerException(
                $"{dir}: no safetensors weights ({looked}); found {string.Join(", ", found)}, but only the safetensors format is supported. " +
                "Convert the checkpoint to safetensors first (e.g. load it in transformers and call save_pretrained(..., safe_serialization=True)).");
        var otherSafetensors = Directory.EnumerateFiles(dir, "*.safetensors").Select(Path.GetFileName).Take(5).ToList();
        if (otherSafetensors.Count > 0)
            return new NativeTransformerException(
                $"{dir}: no weights file ({looked}); the folder has {string.Join(", ", otherSafetensors)}, which are not standard checkpoint names");
        return new NativeTransformerException($"{dir}: no weights file ({looked})");
    }
}
