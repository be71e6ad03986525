namespace NativeTransformer.Serving;

/// <summary>One input's result: an embedding or a classification, and the tokens it took.</summary>
internal sealed record InferenceResult(float[]? Embedding, Classification? Classification, int Tokens);

/// <summary>Cache key: the model name, the task, and the text (rerank: the query and <see cref="TextPair"/> the document).
/// Load options are fixed per server, so the task is the only option that changes a result.</summary>
internal readonly record struct CacheKey(string Model, TaskKind Kind, string Text, string? TextPair = null);

/// <summary>A bounded least-recently-used map from input to result. Results are immutable once cached
/// (responses only read their arrays), so hits share them.</summary>
internal sealed class ResultCache(int capacity)
{
    private readonly Dictionary<CacheKey, LinkedListNode<(CacheKey Key, InferenceResult Value)>> _map = [];
    private readonly LinkedList<(CacheKey Key, InferenceResult Value)> _order = new();   // most recent first
    private readonly Lock _lock = new();

    public int Capacity { get; } = capacity;

    public int Count { get { lock (_lock) return _map.Count; } }

    public bool TryGet(CacheKey key, out InferenceResult value)
    {
        if (Capacity == 0) { value = null!; return false; }
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = null!;
        return false;
    }

    public void Add(CacheKey key, InferenceResult value)
    {
        if (Capacity == 0) return;
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var existing)) { _order.Remove(existing); _map.Remove(key); }
            _map[key] = _order.AddFirst((key, value));
            while (_map.Count > Capacity)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }
    }
}
