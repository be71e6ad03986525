namespace NativeTransformer.Weights;

/// <summary>
/// One <see cref="ITensorSource"/> over the shards of a sharded checkpoint. Each shard is opened once; a tensor's
/// requests go to the shard that holds it. Tensors are listed shard by shard (index order), then in file order.
/// </summary>
internal sealed class ShardedTensorSource : ITensorSource
{
    private readonly IReadOnlyList<SafetensorsFile> _shards;
    private readonly Dictionary<string, SafetensorsFile> _owner;
    private readonly List<TensorInfo> _tensors;

    /// <summary>Takes ownership of <paramref name="shards"/>. The caller has checked that no tensor appears twice.</summary>
    public ShardedTensorSource(string indexPath, IReadOnlyList<SafetensorsFile> shards, IReadOnlyDictionary<string, string> metadata)
    {
        IndexPath = indexPath;
        _shards = shards;
        Metadata = metadata;
        _owner = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        _tensors = new List<TensorInfo>();
        foreach (var shard in shards)
            foreach (var t in shard.Tensors)
            {
                _owner.Add(t.Name, shard);
                _tensors.Add(t);
            }
    }

    /// <summary>Full path of <c>model.safetensors.index.json</c>.</summary>
    public string IndexPath { get; }

    /// <summary>The opened shards, in index order.</summary>
    public IReadOnlyList<SafetensorsFile> Shards => _shards;

    /// <summary>The index's <c>metadata</c> object, scalar values as text (e.g. <c>total_size</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IReadOnlyList<TensorInfo> Tensors => _tensors;

    public bool TryGetInfo(string name, out TensorInfo info)
    {
        if (_owner.TryGetValue(name, out var shard)) return shard.TryGetInfo(name, out info);
        info = null!;
        return false;
    }

    /// <summary>Path of the shard holding <paramref name="name"/> (for error messages).</summary>
    public string FileOf(string name) => Shard(name).Path;

    public ReadOnlySpan<byte> GetBytes(string name) => Shard(name).GetBytes(name);

    public ReadOnlyMemory<float> GetFloat32(string name) => Shard(name).GetFloat32(name);

    public long[] GetInt64(string name) => Shard(name).GetInt64(name);

    public void Dispose()
    {
        foreach (var shard in _shards) shard.Dispose();
    }

    private SafetensorsFile Shard(string name) =>
        _owner.TryGetValue(name, out var shard)
            ? shard
            : throw new WeightException(name, $"{IndexPath}: no tensor named '{name}' in any of the {_shards.Count} shards");
}
