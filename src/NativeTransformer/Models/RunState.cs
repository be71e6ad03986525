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

    public readonly float[] Embedded;  // [B, S, E] embedding sum before the ALBERT projection (empty when E == H); MobileBERT: [B, S, 3E] trigram rows
    public readonly float[] Hidden;    // [B, S, H] the residual stream: layer input, then layer output
    public readonly float[] Qkv;       // [B, S, 3A] query | key | value per token (A = attention width); with a separate
                                       // value projection: [B, S, 2A] query | key, then [B, S, A] value after them
    public readonly float[] Context;   // [B, S, A] attention output, heads merged
    public readonly float[] Attended;  // [B, S, T] norm(residual + Context·Woᵀ): input and residual of the FFN (T = true hidden)
    public readonly float[] Ffn;       // [B, S, I]
    public readonly float[] Gate;      // [B, S, I] T5's gated FFN: wi_1's output (empty otherwise)
    // MobileBERT only (empty otherwise): the bottlenecked block input, the query/key bottleneck, the other half of the
    // stacked FFNs' ping-pong, and the widened block output before it replaces Hidden.
    public readonly float[] LayerInput;  // [B, S, T]
    public readonly float[] SharedInput; // [B, S, T]
    public readonly float[] Attended2;   // [B, S, T]
    public readonly float[] NextHidden;  // [B, S, H]
    // Longformer only (empty otherwise): query_global | key_global | value_global per token, and each row's global token
    // positions (row b's first GlobalCounts[b] entries of GlobalPositions[b·S ..], ascending).
    public readonly float[] GlobalQkv;      // [B, S, 3A]
    public readonly int[] GlobalPositions;  // [B, S]
    public readonly int[] GlobalCounts;     // [B]
    public readonly float[][] AttentionScratch; // per worker: kᵀ [D, S] + scores [S, S]; Longformer: the banded kernel's (linear in S)
    public readonly KernelContext Kernels;
    public readonly AttentionJob Attention;
    public readonly LocalAttentionJob? LocalAttention;
    public readonly LayerNormJob Norm;

    public RunState(ModelConfig c, int maxBatch, int maxSeq, WorkerPool pool, bool int8)
    {
        MaxBatch = maxBatch; MaxSeq = maxSeq;
        int tokens = Length(maxBatch, maxSeq, 1), t = c.AttentionSize, inner = c.AttentionInnerSize; // inner ≠ t in T5 only
        Embedded = c.ProjectionInputSize == c.HiddenSize && !c.ProjectsWordEmbeddings ? [] : Pinned.Allocate(Length(maxBatch, maxSeq, c.ProjectionInputSize));
        Hidden = Pinned.Allocate(Length(maxBatch, maxSeq, c.HiddenSize));
        Qkv = Pinned.Allocate(Length(maxBatch, maxSeq, 3L * inner));
        Context = Pinned.Allocate(Length(maxBatch, maxSeq, inner));
        Attended = Pinned.Allocate(Length(maxBatch, maxSeq, t));
        Ffn = Pinned.Allocate(Length(maxBatch, maxSeq, c.IntermediateSize));
        Gate = c.T5 is { IsGatedAct: true } ? Pinned.Allocate(Ffn.Length) : [];
        var m = c.MobileBert;
        LayerInput = m is { UseBottleneck: true } ? Pinned.Allocate(Attended.Length) : [];
        SharedInput = m is { KeyQuerySharedBottleneck: true, UseBottleneckAttention: false } ? Pinned.Allocate(Attended.Length) : [];
        Attended2 = m is not null ? Pinned.Allocate(Attended.Length) : [];
        NextHidden = m is { UseBottleneck: true } ? Pinned.Allocate(Hidden.Length) : [];
        AttentionScratch = new float[pool.Threads][];
        for (int w = 0; w < AttentionScratch.Length; w++) AttentionScratch[w] = new float[AttentionScratchLength(c, maxSeq)];
        bool longformer = c.Longformer is not null;
        GlobalQkv = longformer ? Pinned.Allocate(Qkv.Length) : [];
        GlobalPositions = longformer ? new int[tokens] : [];
        GlobalCounts = longformer ? new int[maxBatch] : [];
        LocalAttention = longformer ? new LocalAttentionJob(this, c) : null;
        Kernels = new KernelContext(pool, int8 ? new QGemmScratch(tokens, MaxInt8Input(c)) : null);
        Attention = new AttentionJob(this, c);
        Norm = new LayerNormJob(c.LayerNormEps, c.NormalizationType);
    }

    /// <summary>Floats of attention scratch per worker for sequences up to <paramref name="maxSeq"/> tokens: [S, S] scores
    /// for full attention, the banded kernel's (linear in S) for Longformer's widest window.</summary>
    public static int AttentionScratchLength(ModelConfig c, int maxSeq) => c.Longformer is { } lf
        ? BandedAttentionKernel.ScratchLength(maxSeq, lf.AttentionWindow.Max() / 2, c.HeadSize)
        : AttentionKernel.ScratchLength(maxSeq, maxSeq, c.HeadSize);

    /// <summary>The widest input of a Linear that may run int8 (the int8 activation scratch holds one such row per token).</summary>
    public static int MaxInt8Input(ModelConfig c) => Math.Max(Math.Max(c.IntermediateSize, c.AttentionInnerSize), Math.Max(c.HiddenSize, Math.Max(c.EmbeddingSize, c.AttentionSize)));

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
