using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Packed;

namespace NativeTransformer.Tests.Kernels.Packed;

/// <summary>The packed fp32 GEMM against <see cref="GemmReference"/>, on every path this machine supports.</summary>
public unsafe class PackedGemmTests
{
    private static float[] Rand(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static readonly KernelPath[] AllPaths = [KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512];
    /// <summary>Path indices (KernelPath is internal, so theories take its int value).</summary>
    public static TheoryData<int> Paths() => new(0, 1, 2, 3);

    /// <summary>y from the packed GEMM on <paramref name="path"/>; null bias/residual arrays mean null pointers.</summary>
    private static float[] Run(KernelPath path, float[] x, int m, PackedMatrix w, float[]? bias, float[]? residual, Epilogue ep, WorkerPool? pool = null,
        bool? manyRegisters = null)
    {
        var y = new float[Math.Max(1, m * w.N)];
        Array.Fill(y, float.NaN);   // every element must be written
        fixed (float* px = x, pb = bias, pr = residual, py = y)
            PackedGemm.ComputeWith(path, px, m, w, bias == null ? null : pb, residual == null ? null : pr, py, ep, pool, manyRegisters);
        return m * w.N == 0 ? [] : y;
    }

    /// <summary>Reference: GemmReference (double accumulation), then the activation, then + residual.</summary>
    private static float[] Expected(float[] x, int m, float[] w, int n, int k, float[]? bias, float[]? residual, Epilogue ep)
    {
        var y = new float[m * n];
        GemmReference.Compute(x, w, bias ?? [], y, m, n, k);
        Activations.Apply(y, ep);
        if (residual != null) for (int i = 0; i < y.Length; i++) y[i] += residual[i];
        return y;
    }

    private static void AssertClose(float[] expected, float[] actual, float[] x, float[] w, int m, int n, int k, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                // Scale: Σ|x·w| bounds the rounding of any summation order; plus 1 for bias/activation/residual.
                double mag = 1;
                for (int i = 0; i < k; i++) mag += Math.Abs((double)x[r * k + i] * w[c * k + i]);
                double tol = 1e-6 * (k + 4) * mag;
                float e = expected[r * n + c], a = actual[r * n + c];
                Assert.False(!(Math.Abs(e - a) <= tol), $"{what}: y[{r},{c}] = {a}, expected {e} (tol {tol}) M={m} N={n} K={k}");
            }
    }

    private static void Check(KernelPath path, Random rng, int m, int n, int k, bool bias, bool residual, Epilogue ep, bool? manyRegisters = null)
    {
        var x = Rand(rng, m * k); var w = Rand(rng, n * k);
        var b = bias ? Rand(rng, n) : null; var res = residual ? Rand(rng, m * n) : null;
        var pw = PackedMatrix.Pack(w, n, k);
        var got = Run(path, x, m, pw, b, res, ep, manyRegisters: manyRegisters);
        AssertClose(Expected(x, m, w, n, k, b, res, ep), got, x, w, m, n, k, $"{path} {ep} bias={bias} res={residual} manyRegisters={manyRegisters}");
    }

    [Fact]
    public void PackRoundTripsEveryWeight()
    {
        var rng = new Random(5);
        foreach (var (n, k) in new[] { (1, 1), (31, 7), (32, 5), (33, 0), (70, 19), (64, 64) })
        {
            var w = Rand(rng, n * k);
            var pw = PackedMatrix.Pack(w, n, k);
            Assert.Equal(n, pw.N); Assert.Equal(k, pw.K);
            Assert.True(pw.Bytes >= (long)((n + 31) / 32) * 32 * k * sizeof(float));
            for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) Assert.Equal(w[r * k + c], pw[r, c]);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesReferenceForEveryDepth0To256(int pathIndex)
    {
        var path = (KernelPath)pathIndex;
        if (!PackedGemm.IsSupported(path)) return;
        var rng = new Random(1234);
        int[] ms = [1, 2, 3, 5, 7, 12, 13, 25, 70], ns = [1, 31, 32, 33, 64, 65, 70, 97];
        for (int k = 0; k <= 256; k++)
        {
            int m = ms[k % ms.Length], n = ns[(k / 3) % ns.Length];
            Check(path, rng, m, n, k, bias: k % 2 == 0, residual: k % 3 == 0, Epilogue.None);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesReferenceOnRaggedShapesAndDeepK(int pathIndex)
    {
        var path = (KernelPath)pathIndex;
        if (!PackedGemm.IsSupported(path)) return;
        var rng = new Random(77);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (4, 130, 257), (6, 64, 300), (13, 97, 513), (29, 200, 777), (3, 1000, 40), (50, 33, 1100) })
            Check(path, rng, m, n, k, bias: true, residual: true, Epilogue.None);
    }

    /// <summary>The 16-register shapes (Vector256 half-panel kernels, as on AVX2 without AVX-512 and in the AOT binary)
    /// and the 32-register ones, forced whatever this machine has.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Vector256RegisterShapesMatchReference(bool manyRegisters)
    {
        if (!PackedGemm.IsSupported(KernelPath.Vector256)) return;
        var rng = new Random(4321);
        int[] ms = [1, 2, 3, 5, 6, 7, 12, 13, 25], ns = [1, 15, 16, 17, 31, 32, 33, 64, 70];
        for (int k = 0; k <= 256; k++)
        {
            int m = ms[k % ms.Length], n = ns[(k / 3) % ns.Length];
            Check(KernelPath.Vector256, rng, m, n, k, bias: k % 2 == 0, residual: k % 3 == 0, Epilogue.None, manyRegisters);
        }
        foreach (var (m, n, k) in new[] { (6, 64, 300), (13, 97, 513), (29, 200, 777), (128, 70, 384) })   // 128: 18 × 6 + 4 × 5 balanced blocks
            Check(KernelPath.Vector256, rng, m, n, k, bias: true, residual: true, Epilogue.Gelu, manyRegisters);
    }

    [Theory]
    [InlineData(Epilogue.None)]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.GeluTanh)]
    [InlineData(Epilogue.Relu)]
    public void EveryEpilogueWithAndWithoutBiasAndResidual(Epilogue ep)
    {
        var rng = new Random(9 + (int)ep);
        foreach (var path in AllPaths)
        {
            if (!PackedGemm.IsSupported(path)) continue;
            foreach (var (m, n, k) in new[] { (1, 70, 33), (13, 65, 128), (26, 129, 300) })
                for (int mask = 0; mask < 4; mask++)
                    Check(path, rng, m, n, k, bias: (mask & 1) != 0, residual: (mask & 2) != 0, ep);
        }
    }

    [Fact]
    public void EmptyShapesAndZeroDepth()
    {
        var rng = new Random(3);
        foreach (var path in AllPaths)
        {
            if (!PackedGemm.IsSupported(path)) continue;
            Check(path, rng, 0, 40, 16, true, false, Epilogue.None);
            Check(path, rng, 5, 0, 16, true, false, Epilogue.None);
            Check(path, rng, 5, 40, 0, true, true, Epilogue.Gelu);   // y = gelu(bias) + residual
            Check(path, rng, 5, 40, 0, false, false, Epilogue.None);  // y = 0
        }
    }

    /// <summary>All paths compute each element with the same FMA chain, so they agree bit for bit.</summary>
    [Fact]
    public void AllPathsAgreeBitwise()
    {
        var rng = new Random(11);
        foreach (var (m, n, k) in new[] { (1, 33, 17), (7, 100, 300), (30, 70, 513) })
        {
            var x = Rand(rng, m * k); var w = PackedMatrix.Pack(Rand(rng, n * k), n, k); var b = Rand(rng, n); var res = Rand(rng, m * n);
            var scalar = Run(KernelPath.Scalar, x, m, w, b, res, Epilogue.Gelu);
            foreach (var path in AllPaths)
                if (PackedGemm.IsSupported(path))
                    foreach (bool many in new[] { false, true })
                        Assert.Equal(scalar, Run(path, x, m, w, b, res, Epilogue.Gelu, manyRegisters: many));
        }
    }

    [Fact]
    public void ThreadCountDoesNotChangeAnyBit()
    {
        using var p2 = new WorkerPool(2);
        using var p3 = new WorkerPool(3);
        var rng = new Random(42);
        foreach (var (m, n, k) in GemmInvariance.ThreadShapes)
        {
            var x = Rand(rng, m * k); var w = PackedMatrix.Pack(Rand(rng, n * k), n, k); var b = Rand(rng, n); var res = Rand(rng, m * n);
            foreach (var path in AllPaths)
                if (PackedGemm.IsSupported(path))
                    GemmInvariance.AssertThreadCountInvariant(x, m, res, (xs, rows, r, pool) => Run(path, xs, rows, w, b, r, Epilogue.Gelu, pool), p2, p3);
        }
    }

    /// <summary>A row's result does not depend on the other rows of the batch (tails, small-M kernels, splits).</summary>
    [Fact]
    public void RowResultsDoNotDependOnTheBatch()
    {
        using var p2 = new WorkerPool(2);
        var rng = new Random(8);
        int n = 161, k = 530, rows = GemmInvariance.SliceRows;
        var x = Rand(rng, rows * k); var w = PackedMatrix.Pack(Rand(rng, n * k), n, k); var b = Rand(rng, n); var res = Rand(rng, rows * n);
        foreach (var path in AllPaths)
            if (PackedGemm.IsSupported(path))
                GemmInvariance.AssertRowsIndependent(x, n, k, res, (xs, m, r, pool) => Run(path, xs, m, w, b, r, Epilogue.Gelu, pool), p2);
    }

    [Fact]
    public void WarmCallsDoNotAllocate()
    {
        var rng = new Random(1);
        int m = 20, n = 100, k = 300;
        var x = Rand(rng, m * k); var w = PackedMatrix.Pack(Rand(rng, n * k), n, k); var b = Rand(rng, n); var res = Rand(rng, m * n);
        var y = new float[m * n];
        using var pool = new WorkerPool(2);
        fixed (float* px = x, pb = b, pr = res, py = y)
        {
            foreach (var path in AllPaths)
            {
                if (!PackedGemm.IsSupported(path)) continue;
                PackedGemm.ComputeWith(path, px, m, w, pb, pr, py, Epilogue.Gelu, null);
                var (ax, ab, ar, ay) = ((nint)px, (nint)pb, (nint)pr, (nint)py);
                Assert.Equal(0, Allocations.OnOurThreads(null, () =>
                {
                    for (int i = 0; i < 5; i++) PackedGemm.ComputeWith(path, (float*)ax, m, w, (float*)ab, (float*)ar, (float*)ay, Epilogue.Gelu, null);
                }));

                PackedGemm.ComputeWith(path, px, m, w, pb, pr, py, Epilogue.Gelu, pool);
                Assert.Equal(0, Allocations.OnOurThreads(pool, () =>
                {
                    for (int i = 0; i < 5; i++) PackedGemm.ComputeWith(path, (float*)ax, m, w, (float*)ab, (float*)ar, (float*)ay, Epilogue.Gelu, pool);
                }));
            }
        }
    }

    [Fact]
    public void IsaNamesTheChosenPath()
    {
        Assert.Contains(PackedGemm.Isa, new[] { "avx512", "avx2", "vector128", "scalar" });
        Assert.True(PackedGemm.IsSupported(PackedGemm.Best));
    }
}
