using NativeTransformer.Kernels;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// Longformer's self-attention for one layer, run on the <see cref="WorkerPool"/> like <see cref="AttentionJob"/>: one work
/// item per (sequence, head, chunk of <see cref="Chunk"/> query rows), so a single long sequence still spreads over the
/// workers. Each item runs <see cref="BandedAttentionKernel"/>: local rows see the <see cref="Window"/> tokens on each side
/// plus the global tokens (query/key/value from <see cref="RunState.Qkv"/>); global rows see every token through
/// <see cref="RunState.GlobalQkv"/>; padded rows get 0, as Hugging Face gives padded queries no attention.
/// Chunks start at fixed multiples of <see cref="Chunk"/>, so results do not depend on the thread count.
/// </summary>
internal sealed unsafe class LocalAttentionJob(RunState state, ModelConfig config) : IParallelWork
{
    /// <summary>Query rows per work item (a multiple of <see cref="BandedAttentionKernel.Block"/>).</summary>
    public const int Chunk = 64;

    private readonly int _d = config.HeadSize;
    private readonly float _scale = 1f / MathF.Sqrt(config.HeadSize);

    public EncodedBatch? Batch { get; set; }
    public int Heads { get; set; } = config.NumHeads;
    /// <summary>One-sided window of the layer being run (attention_window / 2).</summary>
    public int Window { get; set; }

    public static int Chunks(int seq) => (seq + Chunk - 1) / Chunk;

    public void Execute(int start, int end, int worker)
    {
        var batch = Batch!;
        int seq = batch.SeqLen, heads = Heads, d = _d, a = heads * d, stride = 3 * a, chunks = Chunks(seq);
        fixed (float* qkv = state.Qkv, global = state.GlobalQkv, context = state.Context)
            for (int item = start; item < end; item++)
            {
                int chunk = item % chunks, rest = item / chunks, head = rest % heads, row = rest / heads;
                int count = state.GlobalCounts[row];
                var globals = new ReadOnlySpan<int>(state.GlobalPositions, row * seq, count);
                long offset = (long)row * seq * stride + head * d;
                float* q = qkv + offset, qg = count > 0 ? global + offset : null;
                int from = chunk * Chunk, to = Math.Min(seq, from + Chunk);
                BandedAttentionKernel.Run(q, q + a, q + 2 * a, qg, qg == null ? null : qg + a, qg == null ? null : qg + 2 * a, stride,
                    batch.Lengths[row], Window, globals, d, _scale, from, to, context + (long)row * seq * a + head * d, a,
                    state.AttentionScratch[worker]);
            }
    }
}
