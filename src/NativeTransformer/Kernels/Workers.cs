namespace NativeTransformer.Kernels;

/// <summary>
/// Splits [0, count) into at most <c>workers</c> contiguous ranges and runs them in parallel.
/// Ranges depend only on (count, workers), so each item is always processed by the same code path.
/// </summary>
public static class Workers
{
    public static void For(int count, int workers, Action<int, int> body)
    {
        if (count <= 0) return;
        workers = Math.Clamp(workers, 1, count);
        if (workers == 1) { body(0, count); return; }
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, p =>
        {
            long start = (long)count * p / workers, end = (long)count * (p + 1) / workers;
            body((int)start, (int)end);
        });
    }

    /// <summary>Like <see cref="For(int,int,Action{int,int})"/> but also passes the range's worker index (for per-worker scratch).</summary>
    public static void For(int count, int workers, Action<int, int, int> body)
    {
        if (count <= 0) return;
        workers = Math.Clamp(workers, 1, count);
        if (workers == 1) { body(0, count, 0); return; }
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, p =>
        {
            long start = (long)count * p / workers, end = (long)count * (p + 1) / workers;
            body((int)start, (int)end, p);
        });
    }
}
