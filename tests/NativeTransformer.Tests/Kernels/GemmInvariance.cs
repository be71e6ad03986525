using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>
/// What every GEMM kernel promises bit for bit, checked the same way for each (packed fp32, sparse fp32): the result does
/// not depend on the thread count, nor on which other rows share the call. <see cref="RunRows"/> computes y [m, n] for a
/// weight, bias and epilogue the caller has fixed.
/// </summary>
internal static class GemmInvariance
{
    public delegate float[] RunRows(float[] x, int m, float[] residual, WorkerPool? pool);

    /// <summary>Shapes (M, N, K) for the thread-count check: a single row, ragged tails, splits across workers.</summary>
    public static readonly (int M, int N, int K)[] ThreadShapes = [(1, 1000, 300), (3, 777, 260), (37, 129, 200), (100, 300, 513), (200, 64, 64)];

    /// <summary>Row ranges (start, count) of a 41-row call: single rows, small-M kernels, full and padded tiles.</summary>
    private static readonly (int Start, int Count)[] Slices = [(0, 1), (5, 1), (40, 1), (3, 2), (10, 3), (17, 4), (1, 7), (20, 13), (20, 16), (2, 39)];

    public const int SliceRows = 41;

    public static void AssertThreadCountInvariant(float[] x, int m, float[] residual, RunRows run, WorkerPool p2, WorkerPool p3)
    {
        var one = run(x, m, residual, null);
        Assert.Equal(one, run(x, m, residual, p2));
        Assert.Equal(one, run(x, m, residual, p3));
    }

    /// <summary>x holds <see cref="SliceRows"/> rows of width <paramref name="k"/>; every slice computed alone equals its rows of the whole.</summary>
    public static void AssertRowsIndependent(float[] x, int n, int k, float[] residual, RunRows run, WorkerPool pool)
    {
        var all = run(x, SliceRows, residual, pool);
        foreach (var (start, count) in Slices)
        {
            var part = run(x[(start * k)..((start + count) * k)], count, residual[(start * n)..((start + count) * n)], null);
            Assert.Equal(all[(start * n)..((start + count) * n)], part);
        }
    }
}
