using NativeTransformer.Kernels;

namespace NativeTransformer.Training;

/// <summary>
/// Multi-head scaled dot-product attention with a key padding mask, for training. q, k, v and the context are
/// [batch·seq, heads·headSize] (row = token, heads side by side, as the Linear layers produce them). Masked keys get
/// probability exactly 0 (what HF's additive finfo.min gives). The probabilities P [batch, heads, seq, seq] are kept.
/// Per (row, head): S = Q·Kᵀ/√d, P = softmax(S), C = P·V; backward dV = Pᵀ·dC, dP = dC·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
/// dQ = dS·K/√d, dK = dSᵀ·Q/√d — every product through <see cref="Gemm.ComputeSerial"/>. The (row, head) pairs are
/// independent, so splitting them over threads does not change a bit.
/// </summary>
public static class AttentionBackward
{
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<int> mask,
        Span<float> context, Span<float> probs, int batch, int seq, int heads, int headSize, int threads,
        DropoutOptions? dropout = null, int site = 0)
    {
        double rate = dropout?.Attention ?? 0;
        int width = heads * headSize;
        float[] qa = q.ToArray(), ka = k.ToArray(), va = v.ToArray(); int[] ma = mask.ToArray();
        var ctx = new float[(long)batch * seq * width];
        var p = new float[(long)batch * heads * seq * seq];
        float scale = 1f / MathF.Sqrt(headSize);
        Workers.For(batch * heads, threads, (j0, j1) =>
        {
            var qh = new float[seq * headSize]; var kh = new float[seq * headSize]; var vT = new float[headSize * seq];
            var ch = new float[seq * headSize];
            for (int j = j0; j < j1; j++)
            {
                int b = j / heads, h = j % heads;
                Gather(qa, qh, b, h, seq, width, headSize); Gather(ka, kh, b, h, seq, width, headSize);
                GatherTransposed(va, vT, b, h, seq, width, headSize);
                var ph = p.AsSpan(j * seq * seq, seq * seq);
                Gemm.ComputeSerial(qh, kh, [], ph, seq, seq, headSize);
                for (int r = 0; r < seq; r++) SoftmaxRow(ph.Slice(r * seq, seq), ma.AsSpan(b * seq, seq), scale);
                Gemm.ComputeSerial(Dropped(ph, dropout, site, rate, j, seq), vT, [], ch, seq, headSize, seq);
                Scatter(ch, ctx, b, h, seq, width, headSize);
            }
        });
        ctx.CopyTo(context);
        p.CopyTo(probs);
    }

    /// <summary>dQ, dK, dV (overwritten) from dContext and the kept probabilities.</summary>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> probs,
        ReadOnlySpan<float> dContext, Span<float> dQ, Span<float> dK, Span<float> dV, int batch, int seq, int heads, int headSize, int threads,
        DropoutOptions? dropout = null, int site = 0)
    {
        double rate = dropout?.Attention ?? 0;
        int width = heads * headSize;
        float[] qa = q.ToArray(), ka = k.ToArray(), va = v.ToArray(), pa = probs.ToArray(), dc = dContext.ToArray();
        var dq = new float[qa.Length]; var dk = new float[qa.Length]; var dv = new float[qa.Length];
        float scale = 1f / MathF.Sqrt(headSize);
        Workers.For(batch * heads, threads, (j0, j1) =>
        {
            var qT = new float[headSize * seq]; var kT = new float[headSize * seq]; var vh = new float[seq * headSize];
            var dCh = new float[seq * headSize]; var dCT = new float[headSize * seq];
            var pT = new float[seq * seq]; var dP = new float[seq * seq]; var dST = new float[seq * seq];
            var outH = new float[seq * headSize];
            for (int j = j0; j < j1; j++)
            {
                int b = j / heads, h = j % heads;
                GatherTransposed(qa, qT, b, h, seq, width, headSize); GatherTransposed(ka, kT, b, h, seq, width, headSize);
                Gather(va, vh, b, h, seq, width, headSize);
                Gather(dc, dCh, b, h, seq, width, headSize); GatherTransposed(dc, dCT, b, h, seq, width, headSize);
                var ph = pa.AsSpan(j * seq * seq, seq * seq);
                LinearBackward.Transpose(Dropped(ph, dropout, site, rate, j, seq), seq, seq, pT);
                Gemm.ComputeSerial(pT, dCT, [], outH, seq, headSize, seq);          // dV = Pᵀ·dC
                Scatter(outH, dv, b, h, seq, width, headSize);
                Gemm.ComputeSerial(dCh, vh, [], dP, seq, seq, headSize);           // dP = dC·Vᵀ
                if (rate > 0) dropout!.Apply(dP, site, rate, (long)j * seq * seq); // through the dropout mask
                for (int r = 0; r < seq; r++)
                {
                    var pr = ph.Slice(r * seq, seq); var dpr = dP.AsSpan(r * seq, seq);
                    double dot = 0;
                    for (int c = 0; c < seq; c++) dot += (double)pr[c] * dpr[c];
                    for (int c = 0; c < seq; c++) dpr[c] = (float)(pr[c] * (dpr[c] - dot)) * scale; // dS/√d
                }
                Gemm.ComputeSerial(dP, kT, [], outH, seq, headSize, seq);           // dQ = dS·K
                Scatter(outH, dq, b, h, seq, width, headSize);
                LinearBackward.Transpose(dP, seq, seq, dST);
                Gemm.ComputeSerial(dST, qT, [], outH, seq, headSize, seq);          // dK = dSᵀ·Q
                Scatter(outH, dk, b, h, seq, width, headSize);
            }
        });
        dq.CopyTo(dQ); dk.CopyTo(dK); dv.CopyTo(dV);
    }

    /// <summary>P ⊙ mask for (batch, head) pair <paramref name="j"/> (a copy), or P itself without attention dropout.
    /// Element indices are global over [batch, heads, seq, seq], so the mask does not depend on the thread split.</summary>
    private static ReadOnlySpan<float> Dropped(Span<float> ph, DropoutOptions? dropout, int site, double rate, int j, int seq)
    {
        if (rate <= 0) return ph;
        var copy = ph.ToArray();
        dropout!.Apply(copy, site, rate, (long)j * seq * seq);
        return copy;
    }

    /// <summary>softmax(scale·s) over the unmasked entries; masked ones become exactly 0.</summary>
    private static void SoftmaxRow(Span<float> s, ReadOnlySpan<int> mask, float scale)
    {
        float max = float.NegativeInfinity;
        for (int c = 0; c < s.Length; c++) if (mask[c] != 0) max = MathF.Max(max, s[c] * scale);
        double sum = 0;
        for (int c = 0; c < s.Length; c++)
        {
            float e = mask[c] != 0 ? MathF.Exp(s[c] * scale - max) : 0f;
            s[c] = e;
            sum += e;
        }
        float inv = sum > 0 ? (float)(1.0 / sum) : 0f;
        for (int c = 0; c < s.Length; c++) s[c] *= inv;
    }

    private static void Gather(float[] src, float[] dst, int b, int h, int seq, int width, int d)
    {
        for (int t = 0; t < seq; t++) Array.Copy(src, (b * seq + t) * width + h * d, dst, t * d, d);
    }

    private static void GatherTransposed(float[] src, float[] dst, int b, int h, int seq, int width, int d)
    {
        for (int t = 0; t < seq; t++)
            for (int i = 0; i < d; i++) dst[i * seq + t] = src[(b * seq + t) * width + h * d + i];
    }

    private static void Scatter(float[] src, float[] dst, int b, int h, int seq, int width, int d)
    {
        for (int t = 0; t < seq; t++) Array.Copy(src, t * d, dst, (b * seq + t) * width + h * d, d);
    }
}
