namespace NativeTransformer.Models;

/// <summary>
/// T5's relative position bias (Raffel et al. 2020, Hugging Face's T5Attention): the score of query i and key j gets
/// <c>relative_attention_bias[bucket(j − i), head]</c> added, computed once from the first block's table and shared by
/// every block. The bias depends on j − i alone, so it is kept as one row per head over every distance the model can
/// see, <c>[heads, 2P − 1]</c> with distance j − i at column j − i + P − 1: query i's biases for keys 0.. are then
/// contiguous from column P − 1 − i, and row i + 1 starts one column earlier (the attention kernel's row stride −1).
/// </summary>
internal sealed class RelativePositionBias
{
    private readonly float[] _table; // [heads, 2P − 1]
    private readonly int _maxLength;

    public int Heads { get; }
    /// <summary>Columns per head: 2P − 1.</summary>
    public int Width => 2 * _maxLength - 1;

    /// <summary>The table from relative_attention_bias.weight <paramref name="weight"/> [buckets, heads], for inputs of up to
    /// <paramref name="maxLength"/> tokens.</summary>
    public RelativePositionBias(ReadOnlySpan<float> weight, T5Options t5, int heads, int maxLength)
    {
        Heads = heads; _maxLength = maxLength;
        _table = GC.AllocateArray<float>(heads * Width, pinned: true); // pinned: the attention job holds raw pointers into it
        for (int distance = -(maxLength - 1); distance < maxLength; distance++)
        {
            int bucket = Bucket(distance, t5.RelativeAttentionNumBuckets, t5.RelativeAttentionMaxDistance);
            for (int h = 0; h < heads; h++) _table[h * Width + distance + maxLength - 1] = weight[bucket * heads + h];
        }
    }

    /// <summary>Head <paramref name="head"/>'s bias row for query 0 (keys 0..); query i's row is this minus i.</summary>
    public unsafe float* Row0(float* table, int head) => table + (long)head * Width + _maxLength - 1;

    /// <summary>The table, to pin for <see cref="Row0"/>.</summary>
    public float[] Table => _table;

    /// <summary>The bias of head <paramref name="head"/> for query <paramref name="query"/> and key <paramref name="key"/>.</summary>
    public float At(int head, int query, int key) => _table[head * Width + key - query + _maxLength - 1];

    /// <summary>
    /// Hugging Face's bidirectional <c>_relative_position_bucket</c> of <paramref name="distance"/> = key − query: half the
    /// buckets for each sign; within a half, exact buckets for |distance| below a quarter of the buckets, then
    /// logarithmically wider ones up to <paramref name="maxDistance"/>, beyond which everything shares the last bucket.
    /// Float32 arithmetic in Hugging Face's order, so bucket boundaries fall where PyTorch puts them.
    /// </summary>
    public static int Bucket(int distance, int numBuckets, int maxDistance)
    {
        int half = numBuckets / 2, result = distance > 0 ? half : 0;
        int n = Math.Abs(distance), maxExact = half / 2;
        if (n < maxExact) return result + n;
        float scaled = MathF.Log((float)n / maxExact) / (float)Math.Log((double)maxDistance / maxExact) * (half - maxExact);
        return result + Math.Min(maxExact + (int)scaled, half - 1);
    }
}
