using NativeTransformer.Kernels;

namespace NativeTransformer.Tests;

/// <summary>Managed allocation on the threads that run our code: the caller and the pool's workers (not the test host's).</summary>
internal static class Allocations
{
    /// <summary>
    /// Bytes <paramref name="run"/> allocates on the calling thread plus the pool's workers, the smallest of a few
    /// attempts. A real per-call allocation shows in every attempt; a one-off (a wait primitive's lazy lock object
    /// the first time the caller really blocks, or a per-thread counter shifted by one allocation quantum when
    /// another thread's GC retires this thread's allocation context) does not.
    /// </summary>
    public static long OnOurThreads(WorkerPool? pool, Action run, int attempts = 3)
    {
        long best = long.MaxValue;
        for (int a = 0; a < attempts && best != 0; a++)
        {
            long workers = pool?.WorkerAllocatedBytes() ?? 0, caller = GC.GetAllocatedBytesForCurrentThread();
            run();
            long bytes = GC.GetAllocatedBytesForCurrentThread() - caller + ((pool?.WorkerAllocatedBytes() ?? 0) - workers);
            best = Math.Min(best, bytes);
        }
        return best;
    }
}
