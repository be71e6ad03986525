using System.Numerics.Tensors;
using NativeTransformer.Kernels;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// Multi-head self-attention, Context = softmax(Q·Kᵀ/√D + mask)·V, one (sequence, head) problem per
/// work item, run on the <see cref="WorkerPool"/>. Reused across calls (set <see cref="Batch"/>, then
/// run), so the forward pass allocates nothing. Batches are right-padded: row b's mask is its first
/// <c>Lengths[b]</c> tokens, so only those keys are scored and padded keys get probability exactly 0.
/// </summary>
internal sealed class AttentionJob(RunState state, ModelConfig config) : IParallelWork
{
    private readonly int _h = config.HiddenSize, _heads = config.NumHeads, _d = config.HeadSize;
    private readonly float _scale = 1f / MathF.Sqrt(config.HeadSize);

    public EncodedBatch? Batch { get; set; }

    public void Execute(int start, int end, int worker)
    {
        var batch = Batch!;
        var w = state.Workers[worker];
        int seq = batch.SeqLen, h = _h, d = _d, stride = 3 * h;
        for (int item = start; item < end; item++)
        {
            int row = item / _heads, head = item % _heads, valid = batch.Lengths[row];
            int tokenBase = row * seq;
            // Gather this head's Q and K as [S, D] and V as [D, valid] so both products are x·wᵀ.
            for (int i = 0; i < seq; i++)
            {
                int qkv = (tokenBase + i) * stride + head * d;
                state.Qkv.AsSpan(qkv, d).CopyTo(w.Q.AsSpan(i * d, d));
                if (i >= valid) continue;
                state.Qkv.AsSpan(qkv + h, d).CopyTo(w.K.AsSpan(i * d, d));
                for (int j = 0; j < d; j++) w.VTransposed[j * valid + i] = state.Qkv[qkv + 2 * h + j];
            }
            var scores = w.Scores.AsSpan(0, seq * valid);
            Gemm.ComputeSerial(w.Q, w.K, default, scores, seq, valid, d);                   // [S, valid]
            TensorPrimitives.Multiply(scores, _scale, scores);
            for (int i = 0; i < seq; i++) Softmax.MaskedRow(scores.Slice(i * valid, valid), valid);
            Gemm.ComputeSerial(scores, w.VTransposed, default, w.Context, seq, d, valid);  // [S, D]
            for (int i = 0; i < seq; i++) w.Context.AsSpan(i * d, d).CopyTo(state.Context.AsSpan((tokenBase + i) * h + head * d, d));
        }
    }
}
