using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>The tiled single-head attention against its double-precision oracle, on ragged shapes, with strided in-place heads.</summary>
public unsafe class AttentionKernelTests
{
    [Theory]
    [InlineData(1, 1, 8)]
    [InlineData(5, 3, 8)]
    [InlineData(16, 16, 32)]
    [InlineData(17, 11, 64)]
    [InlineData(64, 64, 64)]
    [InlineData(37, 20, 12)]   // head size not a multiple of 8: scalar tails
    [InlineData(130, 129, 32)]
    public void MatchesReference(int rows, int valid, int d)
    {
        var rng = new Random(rows * 1000 + valid * 10 + d);
        int stride = 3 * d + 5;   // heads live inside wider rows
        var qkv = Enumerable.Range(0, rows * stride).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var expected = new float[rows * d]; var actual = new float[rows * d];
        var scratch = new float[AttentionKernel.ScratchLength(rows, valid, d)];
        float scale = 1f / MathF.Sqrt(d);
        fixed (float* p = qkv, e = expected, a = actual)
        {
            AttentionReference.SingleHead(p, p + d, p + 2 * d, stride, rows, valid, d, scale, e, d);
            AttentionKernel.SingleHead(p, p + d, p + 2 * d, stride, rows, valid, d, scale, a, d, scratch);
        }
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f, $"at {i}: {expected[i]} vs {actual[i]}");
    }

    /// <summary>Every tile, edge and tail path of the q·kᵀ product gives each score the bits of the plain t-order FMA chain
    /// (the scalar oracle), on every key count 1..70 (short texts hit the masked edges) and ragged row counts.</summary>
    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(32)]
    public void ScoresAreTheScalarFmaChainBitForBit(int d)
    {
        var rng = new Random(d);
        for (int valid = 1; valid <= 70; valid++)
            foreach (int rows in new[] { 1, 3, 4, 5, 9 })
            {
                int stride = d + 3;
                var q = Enumerable.Range(0, rows * stride).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                var kt = Enumerable.Range(0, d * valid).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                var scores = new float[rows * valid + 1];
                scores[^1] = 12345f;   // a guard value right after the last row: masked stores must not touch it
                fixed (float* pq = q, pk = kt, ps = scores) AttentionKernel.Scores(pq, stride, pk, rows, valid, d, ps);
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < valid; j++)
                    {
                        float a = 0;
                        for (int t = 0; t < d; t++) a = MathF.FusedMultiplyAdd(q[i * stride + t], kt[t * valid + j], a);
                        Assert.True(a == scores[i * valid + j], $"d {d} valid {valid} rows {rows} at ({i}, {j}): {scores[i * valid + j]} vs {a}");
                    }
                Assert.Equal(12345f, scores[^1]);
            }
    }

    /// <summary>An additive bias [rows, valid] read at a row stride (positive, or −1 as T5's Toeplitz table), with scale 1
    /// (T5) and 1/√d.</summary>
    [Theory]
    [InlineData(1, 1, 8, 1f, false)]
    [InlineData(17, 11, 32, 1f, true)]
    [InlineData(64, 64, 32, 1f, true)]
    [InlineData(37, 20, 12, 0.25f, false)]
    [InlineData(130, 129, 64, 0.125f, true)]
    public void WithAdditiveBiasMatchesReference(int rows, int valid, int d, float scale, bool toeplitz)
    {
        var rng = new Random(rows * 7 + valid + d);
        int stride = 3 * d + 3;
        var qkv = Enumerable.Range(0, rows * stride).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        // Toeplitz: one row of 2·rows − 1 values, query i reading from column rows − 1 − i (stride −1); else a full [rows, valid].
        var table = Enumerable.Range(0, toeplitz ? 2 * rows + valid : rows * valid).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        long biasStride = toeplitz ? -1 : valid;
        int start = toeplitz ? rows - 1 : 0;
        var expected = new float[rows * d]; var actual = new float[rows * d];
        var scratch = new float[AttentionKernel.ScratchLength(rows, valid, d)];
        fixed (float* p = qkv, e = expected, a = actual, b = table)
        {
            AttentionReference.SingleHead(p, p + d, p + 2 * d, stride, rows, valid, d, scale, b + start, biasStride, e, d);
            AttentionKernel.SingleHead(p, p + d, p + 2 * d, stride, stride, rows, valid, d, scale, b + start, biasStride, a, d, scratch);
        }
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f, $"at {i}: {expected[i]} vs {actual[i]}");
        // The bias matters: without it the result differs.
        fixed (float* p = qkv, a = actual) AttentionKernel.SingleHead(p, p + d, p + 2 * d, stride, rows, valid, d, scale, a, d, scratch);
        Assert.True(valid == 1 || expected.Where((v, i) => Math.Abs(v - actual[i]) > 1e-3f).Any(), "the bias changed nothing");
    }

    /// <summary>Bit for bit, a query row's output equals that row computed alone — also across the kernel's row blocks
    /// (37 rows = 16 + 16 + 5).</summary>
    [Theory]
    [InlineData(13, 9)]
    [InlineData(37, 30)]
    public void RowResultDoesNotDependOnOtherRows(int rows, int valid)
    {
        var rng = new Random(3);
        int d = 32, stride = 3 * d;
        var qkv = Enumerable.Range(0, rows * stride).Select(_ => (float)rng.NextDouble()).ToArray();
        var all = new float[rows * d];
        var scratch = new float[AttentionKernel.ScratchLength(rows, valid, d)];
        fixed (float* p = qkv, o = all) AttentionKernel.SingleHead(p, p + d, p + 2 * d, stride, rows, valid, d, 0.2f, o, d, scratch);
        for (int r = 0; r < rows; r++)
        {
            // The same query alone (keys and values unchanged): copy its q into row 0 of a 1-row problem.
            var single = (float[])qkv.Clone();
            Array.Copy(qkv, r * stride, single, 0, d);
            var one = new float[d];
            fixed (float* p = single, o = one)
            fixed (float* k = &qkv[d])
                AttentionKernel.SingleHead(p, k, k + d, stride, 1, valid, d, 0.2f, o, d, scratch);
            Assert.Equal(all.AsSpan(r * d, d).ToArray(), one);
        }
    }
}
