namespace NativeTransformer.Kernels;

/// <summary>Work a <see cref="WorkerPool"/> splits: items [start, end) run on worker <c>worker</c> (0 = the calling thread).</summary>
public interface IParallelWork
{
    void Execute(int start, int end, int worker);
}

/// <summary>
/// A persistent pool of <c>Threads − 1</c> background threads plus the calling thread. <c>For</c>
/// splits [0, count) into contiguous ranges whose boundaries depend only on (count, ranges), runs them,
/// and returns when all are done. Allocation-free per call (the work is an object the caller reuses),
/// and idle workers block on a semaphore — they do not spin. Kernels must compute each output element
/// with the same operation sequence whatever range it lands in, so results are bitwise identical for
/// any thread count. Concurrent callers are serialised.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _done = new(false, spinCount: 1);
    private IParallelWork? _work;
    private int _count, _ranges, _pending;
    private Exception? _error;
    private volatile bool _disposed;

    /// <summary>Number of threads that run work, the caller included.</summary>
    public int Threads { get; }

    /// <param name="threads">Total threads including the caller; 0 = one per physical core.</param>
    public WorkerPool(int threads = 0)
    {
        Threads = threads > 0 ? threads : CpuTopology.PhysicalCores;
        _threads = new Thread[Threads - 1];
        _wake = new SemaphoreSlim[Threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _wake[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"nt-worker-{worker}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <paramref name="work"/> over [0, count) in up to <see cref="Threads"/> ranges.</summary>
    public void For(int count, IParallelWork work) => For(count, Threads, work);

    /// <summary>Runs <paramref name="work"/> over [0, count) in up to <paramref name="maxRanges"/> ranges (1 = inline on the caller).</summary>
    public void For(int count, int maxRanges, IParallelWork work)
    {
        if (count <= 0) return;
        int ranges = Math.Clamp(Math.Min(maxRanges, Threads), 1, count);
        if (ranges == 1) { work.Execute(0, count, 0); return; }
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_gate)
        {
            _work = work; _count = count; _ranges = ranges; _error = null;
            _pending = ranges - 1;
            _done.Reset();
            for (int r = 1; r < ranges; r++) _wake[r - 1].Release();
            try { Run(0); }
            finally
            {
                _done.Wait();
                _work = null;
            }
            if (_error is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
    }

    private void Run(int range)
    {
        long start = (long)_count * range / _ranges, end = (long)_count * (range + 1) / _ranges;
        try { _work!.Execute((int)start, (int)end, range); }
        catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
    }

    private void WorkerLoop(int worker)
    {
        var wake = _wake[worker - 1];
        while (true)
        {
            wake.Wait();
            if (_disposed) return;
            Run(worker);
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    /// <summary>
    /// Managed bytes allocated so far by the pool's background threads (worker 1..Threads−1), for tests of the
    /// allocation-free claim: unlike GC.GetTotalAllocatedBytes it ignores every thread that is not ours.
    /// </summary>
    internal long WorkerAllocatedBytes()
    {
        if (Threads == 1) return 0;
        var probe = new AllocationProbe(Threads);
        For(Threads, Threads, probe);   // Threads ranges of one item: range r runs on worker r
        long sum = 0;
        for (int w = 1; w < Threads; w++) sum += probe.Bytes[w];
        return sum;
    }

    private sealed class AllocationProbe(int workers) : IParallelWork
    {
        public readonly long[] Bytes = new long[workers];
        public void Execute(int start, int end, int worker) => Bytes[worker] = GC.GetAllocatedBytesForCurrentThread();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var w in _wake) w.Release();
    }
}
