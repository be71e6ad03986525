using NativeTransformer.Kernels;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// Multi-head self-attention, Context = softmax(Q·Kᵀ/√D + mask)·V, one (sequence, head) problem per
/// work item, run on the <see cref="WorkerPool"/>. Heads are read in place from the fused [tokens, 3H]
/// projection and written in place into Context [tokens, H]. Reused across calls (set <see cref="Batch"/>,
/// then run), so the forward pass allocates nothing. Batches are right-padded: row b's mask is its first
/// <c>Lengths[b]</c> tokens, so only those keys are scored and padded keys get probability exactly 0.
/// </summary>
internal sealed unsafe class AttentionJob(RunState state, ModelConfig config) : IParallelWork
{
    private readonly int _h = config.HiddenSize, _heads = config.NumHeads, _d = config.HeadSize;
    private readonly float _scale = 1f / MathF.Sqrt(config.HeadSize);

    public EncodedBatch? Batch { get; set; }

    public void Execute(int start, int end, int worker)
    {
        var batch = Batch!;
        int seq = batch.SeqLen, h = _h, d = _d;
        fixed (float* qkv = state.Qkv, context = state.Context)
            for (int item = start; item < end; item++)
            {
                int row = item / _heads, head = item % _heads;
                float* q = qkv + (long)row * seq * 3 * h + head * d;   // k = q + H, v = q + 2H, row stride 3H
                AttentionKernel.SingleHead(q, q + h, q + 2 * h, 3 * h, seq, batch.Lengths[row], d, _scale,
                    context + (long)row * seq * h + head * d, h, state.AttentionScratch[worker]);
            }
    }
}
