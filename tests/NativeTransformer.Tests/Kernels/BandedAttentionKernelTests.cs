using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>Sliding-window + global attention against its double-precision oracle (lengths 0..256, fixed seeds), against
/// plain full attention when the window covers the sequence, and the independence of a row from how rows are split.</summary>
public unsafe class BandedAttentionKernelTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 4 - 2);
        return x;
    }

    private static int[] Globals(int length, int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(Math.Max(length, 1))).Where(p => p < length).Distinct().Order().ToArray();
    }

    public static IEnumerable<object[]> Shapes()
    {
        int[] lengths = [1, 2, 3, 7, 8, 31, 32, 33, 64, 65, 100, 127, 128, 129, 200, 255, 256];
        foreach (int n in lengths)
            foreach (int w in new[] { 0, 1, 4, 16, 64 })
                foreach (int globals in new[] { 0, 1, 5 })
                    yield return [n, w, globals];
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReference(int length, int w, int globalCount)
    {
        const int d = 16;
        int stride = 3 * d + 3, rows = length + 5; // padded rows after the sequence must come out 0
        var local = Random(rows * stride, length * 131 + w * 7 + globalCount);
        var global = Random(rows * stride, length * 17 + w + 99);
        var globals = Globals(length, globalCount, length + w);
        var expected = new float[rows * d]; var actual = Random(rows * d, 5); // garbage in the output must be overwritten
        var scratch = new float[BandedAttentionKernel.ScratchLength(length, w, d)];
        float scale = 0.25f;
        fixed (float* l = local, g = global, e = expected, a = actual)
        {
            BandedAttentionReference.Run(l, l + d, l + 2 * d, g, g + d, g + 2 * d, stride, length, w, globals, d, scale, rows, e, d);
            BandedAttentionKernel.Run(l, l + d, l + 2 * d, g, g + d, g + 2 * d, stride, length, w, globals, d, scale, 0, rows, a, d, scratch);
        }
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f, $"n {length} w {w} at {i}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void EmptyLengthIsRefused()
    {
        var scratch = new float[BandedAttentionKernel.ScratchLength(4, 2, 8)];
        var x = new float[64];
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            fixed (float* p = x) BandedAttentionKernel.Run(p, p, p, null, null, null, 8, 0, 2, [], 8, 1f, 0, 1, p, 8, scratch);
        });
    }

    /// <summary>A window covering the whole sequence and no global token is full attention.</summary>
    [Theory]
    [InlineData(1, 1, 32)]
    [InlineData(40, 40, 64)]
    [InlineData(100, 128, 64)]
    [InlineData(257, 300, 32)]
    public void WholeWindowEqualsFullAttention(int length, int w, int d)
    {
        int stride = 3 * d;
        var qkv = Random(length * stride, length + d);
        var full = new float[length * d]; var banded = new float[length * d];
        float scale = 1f / MathF.Sqrt(d);
        fixed (float* p = qkv, f = full, b = banded)
        {
            AttentionKernel.SingleHead(p, p + d, p + 2 * d, stride, length, length, d, scale, f, d, new float[AttentionKernel.ScratchLength(length, length, d)]);
            BandedAttentionKernel.Run(p, p + d, p + 2 * d, null, null, null, stride, length, w, [], d, scale, 0, length, b, d,
                new float[BandedAttentionKernel.ScratchLength(length, w, d)]);
        }
        for (int i = 0; i < full.Length; i++) Assert.True(Math.Abs(full[i] - banded[i]) < 1e-5f, $"at {i}: {full[i]} vs {banded[i]}");
    }

    /// <summary>Rows computed in any split (as different thread counts split them) are bitwise the same.</summary>
    [Fact]
    public void RowsDoNotDependOnTheSplit()
    {
        const int d = 32, length = 300, w = 20;
        int stride = 3 * d;
        var local = Random(length * stride, 1); var global = Random(length * stride, 2);
        int[] globals = [0, 7, 150, 299];
        var whole = new float[length * d]; var pieces = new float[length * d];
        var scratch = new float[BandedAttentionKernel.ScratchLength(length, w, d)];
        fixed (float* l = local, g = global, a = whole, b = pieces)
        {
            BandedAttentionKernel.Run(l, l + d, l + 2 * d, g, g + d, g + 2 * d, stride, length, w, globals, d, 0.2f, 0, length, a, d, scratch);
            foreach (var (from, to) in new[] { (0, 5), (5, 64), (64, 65), (65, 200), (200, 300) })
                BandedAttentionKernel.Run(l, l + d, l + 2 * d, g, g + d, g + 2 * d, stride, length, w, globals, d, 0.2f, from, to, b, d, scratch);
        }
        Assert.Equal(whole, pieces);
    }
}
