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

    [Fact]
    public void RowResultDoesNotDependOnOtherRows()
    {
        var rng = new Random(3);
        int rows = 13, valid = 9, d = 32, stride = 3 * d;
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

    /// <summary>Every key count 0..256 at the head sizes that matter (32: MiniLM; 64: BERT-base), strided as in the fused
    /// [tokens, 3H] projection, against the double-precision oracle; 0 keys is a typed error, not garbage.</summary>
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void MatchesReferenceForEveryKeyCount0To256(int d)
    {
        var rng = new Random(256 + d);
        int stride = 3 * 12 * d;
        var scratch = new float[AttentionKernel.ScratchLength(9, 256, d)];
        var none = new float[d];
        fixed (float* o = none)
        {
            float* nil = o;
            Assert.Throws<ArgumentOutOfRangeException>(() => AttentionKernel.SingleHead(nil, nil, nil, d, 1, 0, d, 1f, nil, d, scratch));
        }
        for (int valid = 1; valid <= 256; valid++)
        {
            int rows = 1 + valid % 9;   // 4-row tiles and every tail
            int tokens = Math.Max(rows, valid);
            var qkv = Enumerable.Range(0, tokens * stride).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            var expected = new float[rows * d]; var actual = new float[rows * d];
            float scale = 1f / MathF.Sqrt(d);
            fixed (float* p = qkv, e = expected, a = actual)
            {
                AttentionReference.SingleHead(p, p + 12 * d, p + 24 * d, stride, rows, valid, d, scale, e, d);
                AttentionKernel.SingleHead(p, p + 12 * d, p + 24 * d, stride, rows, valid, d, scale, a, d, scratch);
            }
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f, $"valid {valid} d {d} at {i}: {expected[i]} vs {actual[i]}");
        }
    }
}
