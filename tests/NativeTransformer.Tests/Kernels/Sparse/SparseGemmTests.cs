using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Packed;
using NativeTransformer.Kernels.Sparse;

namespace NativeTransformer.Tests.Kernels.Sparse;

/// <summary>The sparse fp32 GEMM against its scalar oracle (bit for bit) and the dense <see cref="GemmReference"/> (to rounding).</summary>
public unsafe class SparseGemmTests
{
    private static readonly KernelPath[] AllPaths = [KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512];

    private static float[] Rand(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    /// <summary>A random [n, k] weight with about <paramref name="sparsity"/> of its entries zero; some rows all zero when sparsity ≥ 0.9.</summary>
    private static float[] SparseWeight(Random rng, int n, int k, double sparsity)
    {
        var w = Rand(rng, n * k);
        for (int i = 0; i < w.Length; i++) if (rng.NextDouble() < sparsity) w[i] = 0f;
        if (sparsity >= 0.9 && n > 2) Array.Clear(w, (n / 2) * k, k);   // an all-zero output row
        return w;
    }

    private static float[] Run(KernelPath path, float[] x, int m, SparseMatrix w, float[]? bias, float[]? residual, Epilogue ep, WorkerPool? pool = null)
    {
        var y = new float[Math.Max(1, m * w.N)];
        Array.Fill(y, float.NaN);   // every element must be written
        fixed (float* px = x, pb = bias, pr = residual, py = y)
            SparseGemm.ComputeWith(path, px, m, w, bias == null ? null : pb, residual == null ? null : pr, py, ep, pool);
        return m * w.N == 0 ? [] : y;
    }

    private static float[] Oracle(float[] x, int m, SparseMatrix w, float[]? bias, float[]? residual, Epilogue ep)
    {
        var y = new float[m * w.N];
        SparseReference.Compute(x, m, w, bias ?? [], residual ?? [], y, ep);
        return y;
    }

    /// <summary>Dense double-accumulated reference within a summation-order tolerance.</summary>
    private static void AssertCloseToDense(float[] x, int m, float[] w, int n, int k, float[]? bias, float[]? residual, Epilogue ep, float[] actual)
    {
        var e = new float[m * n];
        GemmReference.Compute(x, w, bias ?? [], e, m, n, k);
        Activations.Apply(e, ep);
        if (residual != null) for (int i = 0; i < e.Length; i++) e[i] += residual[i];
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                double mag = 1;
                for (int i = 0; i < k; i++) mag += Math.Abs((double)x[r * k + i] * w[c * k + i]);
                double tol = 1e-6 * (k + 4) * mag;
                float want = e[r * n + c], got = actual[r * n + c];
                Assert.False(!(Math.Abs(want - got) <= tol), $"y[{r},{c}] = {got}, dense {want} (tol {tol}) M={m} N={n} K={k}");
            }
    }

    private static void Check(Random rng, int m, int n, int k, double sparsity, bool bias, bool residual, Epilogue ep)
    {
        var x = Rand(rng, m * k); var wd = SparseWeight(rng, n, k, sparsity);
        var b = bias ? Rand(rng, n) : null; var res = residual ? Rand(rng, m * n) : null;
        var w = SparseMatrix.FromDense(wd, n, k);
        var oracle = Oracle(x, m, w, b, res, ep);
        AssertCloseToDense(x, m, wd, n, k, b, res, ep, oracle);
        foreach (var path in AllPaths)
            if (PackedGemm.IsSupported(path))
                Assert.True(oracle.AsSpan().SequenceEqual(Run(path, x, m, w, b, res, ep)), $"{path} differs from the oracle: M={m} N={n} K={k} sparsity={sparsity} {ep}");
    }

    [Fact]
    public void FromDenseRoundTripsEveryWeightAndCountsNonZeros()
    {
        var rng = new Random(5);
        foreach (var (n, k, sp) in new[] { (1, 1, 0.0), (15, 7, 0.5), (16, 5, 0.9), (33, 0, 0.5), (70, 19, 1.0), (64, 64, 0.0) })
        {
            var wd = SparseWeight(rng, n, k, sp);
            var w = SparseMatrix.FromDense(wd, n, k);
            Assert.Equal(n, w.N); Assert.Equal(k, w.K);
            Assert.Equal(wd.Count(v => v != 0f), w.NonZeros);
            Assert.Equal(n * k - w.NonZeros, SparseMatrix.CountZeros(wd, n, k));
            Assert.True(w.Steps * (long)SparseMatrix.SliceWidth >= w.NonZeros);
            for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) Assert.Equal(wd[r * k + c], w[r, c]);
        }
        Assert.Equal(0, SparseMatrix.FromDense(new float[40 * 30], 40, 30).Steps);   // all zero: nothing stored
    }

    [Fact]
    public void EveryPathEqualsTheOracleOnManyShapesAndSparsities()
    {
        var rng = new Random(1234);
        int[] ms = [1, 2, 3, 4, 5, 8, 15, 16, 17, 31, 33, 40], ns = [1, 15, 16, 17, 33, 64, 65, 100];
        double[] sparsities = [0, 0.5, 0.9, 1.0];
        int i = 0;
        foreach (int k in new[] { 0, 1, 2, 7, 16, 31, 64, 100, 257 })
            foreach (double sp in sparsities)
            {
                i++;
                Check(rng, ms[i % ms.Length], ns[(i / 2) % ns.Length], k, sp, bias: i % 2 == 0, residual: i % 3 == 0, Epilogue.None);
            }
    }

    [Theory]
    [InlineData(Epilogue.None)]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.GeluTanh)]
    [InlineData(Epilogue.Relu)]
    public void EveryEpilogueWithAndWithoutBiasAndResidual(Epilogue ep)
    {
        var rng = new Random(9 + (int)ep);
        foreach (var (m, n, k) in new[] { (1, 70, 33), (16, 65, 128), (37, 129, 300) })
            for (int mask = 0; mask < 4; mask++)
                Check(rng, m, n, k, 0.8, bias: (mask & 1) != 0, residual: (mask & 2) != 0, ep);
    }

    [Fact]
    public void EmptyShapes()
    {
        var rng = new Random(3);
        Check(rng, 0, 40, 16, 0.5, true, false, Epilogue.None);
        Check(rng, 5, 0, 16, 0.5, true, false, Epilogue.None);
        Check(rng, 5, 40, 0, 0.5, true, true, Epilogue.Gelu);   // y = gelu(bias) + residual
    }

    [Fact]
    public void ThreadCountDoesNotChangeAnyBit()
    {
        using var p2 = new WorkerPool(2);
        using var p3 = new WorkerPool(3);
        var rng = new Random(42);
        foreach (var (m, n, k) in GemmInvariance.ThreadShapes)
        {
            var x = Rand(rng, m * k); var w = SparseMatrix.FromDense(SparseWeight(rng, n, k, 0.7), n, k); var b = Rand(rng, n); var res = Rand(rng, m * n);
            foreach (var path in AllPaths)
                if (PackedGemm.IsSupported(path))
                    GemmInvariance.AssertThreadCountInvariant(x, m, res, (xs, rows, r, pool) => Run(path, xs, rows, w, b, r, Epilogue.Gelu, pool), p2, p3);
        }
    }

    /// <summary>A row's result does not depend on the other rows (full tiles, padded tiles and the per-row kernel agree).</summary>
    [Fact]
    public void RowResultsDoNotDependOnTheBatch()
    {
        using var p2 = new WorkerPool(2);
        var rng = new Random(8);
        int n = 161, k = 530, rows = GemmInvariance.SliceRows;
        var x = Rand(rng, rows * k); var w = SparseMatrix.FromDense(SparseWeight(rng, n, k, 0.9), n, k); var b = Rand(rng, n); var res = Rand(rng, rows * n);
        foreach (var path in AllPaths)
            if (PackedGemm.IsSupported(path))
                GemmInvariance.AssertRowsIndependent(x, n, k, res, (xs, m, r, pool) => Run(path, xs, m, w, b, r, Epilogue.Gelu, pool), p2);
    }

    [Fact]
    public void WarmForwardDoesNotAllocate()
    {
        var rng = new Random(1);
        int m = 40, n = 100, k = 300;
        var x = Rand(rng, m * k); var res = Rand(rng, m * n); var y = new float[m * n];
        var op = new SparseLinear(SparseWeight(rng, n, k, 0.9), Rand(rng, n), n, k);
        using var pool = new WorkerPool(2);
        var ctx = new KernelContext(pool, null);
        fixed (float* px = x, pr = res, py = y)
        {
            var (ax, ar, ay) = ((nint)px, (nint)pr, (nint)py);
            foreach (int rows in new[] { 1, 16, m })
            {
                op.Forward(px, rows, py, Epilogue.Gelu, pr, ctx);
                Assert.Equal(0, Allocations.OnOurThreads(pool, () =>
                {
                    for (int i = 0; i < 5; i++) op.Forward((float*)ax, rows, (float*)ay, Epilogue.Gelu, (float*)ar, ctx);
                }));
            }
        }
    }
}
