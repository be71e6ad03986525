using NativeTransformer.Kernels;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// Multi-head self-attention, Context = softmax(Q·Kᵀ/√D + mask)·V, one (sequence, head) problem per
/// work item, run on the <see cref="WorkerPool"/>. Heads are read in place from the fused [tokens, 3H]
/// projection and written in place into Context [tokens, H]. Reused across calls (set <see cref="Batch"/>,
/// then run), so the forward pass allocates nothing. Batches are right-padded: row b's mask is its first
/// <c>Lengths[b]</c> tokens, so only those keys are scored and padded keys get probability exactly 0.
/// A layer with pruned heads has A = <see cref="Heads"/>·D &lt; H: the projection is then [tokens, 3A] and Context [tokens, A].
/// T5: no 1/√D scaling (its initialisation folds it into the query weights), and <see cref="PositionBias"/> is added to the scores.
/// </summary>
internal sealed unsafe class AttentionJob(RunState state, ModelConfig config) : IParallelWork
{
    private readonly int _d = config.HeadSize;
    private readonly float _scale = config.T5 is not null ? 1f : 1f / MathF.Sqrt(config.HeadSize);

    /// <summary>T5's relative position bias, added to every head's scores; null elsewhere.</summary>
    public RelativePositionBias? PositionBias { get; set; }

    public EncodedBatch? Batch { get; set; }
    /// <summary>Heads of the layer being run (fewer than num_attention_heads when pruned).</summary>
    public int Heads { get; set; } = config.NumHeads;

    /// <summary>Where value rows are: null = in <see cref="RunState.Qkv"/> after query|key ([tokens, 3A]); otherwise the
    /// query|key rows are [tokens, 2A] and the value rows [tokens, A] follow them in the same buffer.</summary>
    public bool SeparateValue { get; set; }

    public void Execute(int start, int end, int worker)
    {
        var batch = Batch!;
        int seq = batch.SeqLen, heads = Heads, d = _d, a = heads * d;
        int stride = SeparateValue ? 2 * a : 3 * a, vStride = SeparateValue ? a : 3 * a;
        long tokens = (long)batch.BatchSize * seq;
        var positionBias = PositionBias;
        fixed (float* qkv = state.Qkv, context = state.Context, biasTable = positionBias is null ? null : positionBias.Table)
            for (int item = start; item < end; item++)
            {
                int row = item / heads, head = item % heads;
                float* q = qkv + (long)row * seq * stride + head * d;   // k = q + A
                float* v = SeparateValue ? qkv + tokens * stride + (long)row * seq * a + head * d : q + 2 * a;
                // T5: query i's biases for keys 0.. start one column before query i − 1's (RelativePositionBias's layout).
                float* bias = positionBias is null ? null : positionBias.Row0(biasTable, head);
                AttentionKernel.SingleHead(q, q + a, v, stride, vStride, seq, batch.Lengths[row], d, _scale, bias, -1,
                    context + (long)row * seq * a + head * d, a, state.AttentionScratch[worker]);
            }
    }
}
