using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Int8;

namespace NativeTransformer.Models;

/// <summary>
/// Every activation buffer of one forward pass, allocated once (pinned, so kernels hold raw pointers)
/// for a capacity of <see cref="MaxBatch"/> × <see cref="MaxSeq"/> tokens and reused by every call that
/// fits. B = batch, S = sequence, E = embedding size, H = hidden, I = intermediate, D = head size.
/// One RunState serves one forward pass at a time.
/// </summary>
internal sealed class RunState
{
    public int MaxBatch { get; }
    public int MaxSeq { get; }

    public readonly float[] Embedded;  // [B, S, E] embedding sum before the ALBERT projection (empty when E == H)
    public readonly float[] Hidden;    // [B, S, H] the residual stream: layer input, then layer output
    public readonly float[] Qkv;       // [B, S, 3H] query | key | value per token
    public readonly float[] Context;   // [B, S, H] attention output, heads merged
    public readonly float[] Attended;  // [B, S, H] LayerNorm(Hidden + Context·Woᵀ): input and residual of the FFN
    public readonly float[] Ffn;       // [B, S, I]
    public readonly float[][] AttentionScratch; // per worker: kᵀ [D, S] + scores [S, S]
    public readonly KernelContext Kernels;
    public readonly AttentionJob Attention;
    public readonly LayerNormJob Norm;

    public RunState(ModelConfig c, int maxBatch, int maxSeq, WorkerPool pool, bool int8)
    {
        MaxBatch = maxBatch; MaxSeq = maxSeq;
        int tokens = Length(maxBatch, maxSeq, 1);
        Embedded = c.EmbeddingSize == c.HiddenSize ? [] : Pinned.Allocate(Length(maxBatch, maxSeq, c.EmbeddingSize));
        Hidden = Pinned.Allocate(Length(maxBatch, maxSeq, c.HiddenSize));
        Qkv = Pinned.Allocate(Length(maxBatch, maxSeq, 3L * c.HiddenSize));
        Context = Pinned.Allocate(Hidden.Length);
        Attended = Pinned.Allocate(Hidden.Length);
        Ffn = Pinned.Allocate(Length(maxBatch, maxSeq, c.IntermediateSize));
        AttentionScratch = new float[pool.Threads][];
        for (int w = 0; w < AttentionScratch.Length; w++) AttentionScratch[w] = new float[AttentionKernel.ScratchLength(maxSeq, maxSeq, c.HeadSize)];
        Kernels = new KernelContext(pool, int8 ? new QGemmScratch(tokens, Math.Max(c.IntermediateSize, Math.Max(c.HiddenSize, c.EmbeddingSize))) : null);
        Attention = new AttentionJob(this, c);
        Norm = new LayerNormJob(c.LayerNormEps);
    }

    public bool Fits(int batch, int seq) => batch <= MaxBatch && seq <= MaxSeq;

    /// <summary>batch × seq × width as an array length, in 64-bit arithmetic: a batch whose buffers would pass .NET's
    /// array limit is a typed <see cref="InputException"/>, never an overflow into a wrong (small) size.</summary>
    public static int Length(int batch, int seq, long width)
    {
        long tokens = (long)batch * seq; // < 2^62: no overflow; the division below avoids one in tokens × width
        return width <= 0 || tokens <= Array.MaxLength / width ? (int)(tokens * width)
            : throw new InputException($"a batch of {batch} inputs × {seq} tokens × width {width} needs more floats per buffer " +
                $"than the {Array.MaxLength} an array can hold; use a smaller batch size or max length");
    }
}
