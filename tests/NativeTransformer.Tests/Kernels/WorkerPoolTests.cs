using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

public class WorkerPoolTests
{
    private sealed class Record(int count) : IParallelWork
    {
        public readonly int[] Hits = new int[count];
        public readonly int[] Worker = new int[count];
        public void Execute(int start, int end, int worker)
        {
            for (int i = start; i < end; i++) { Interlocked.Increment(ref Hits[i]); Worker[i] = worker; }
        }
    }

    private sealed class Throw : IParallelWork
    {
        public void Execute(int start, int end, int worker) { if (worker == 1) throw new InvalidOperationException("boom"); }
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 1)]
    [InlineData(3, 7)]
    [InlineData(4, 1000)]
    public void EveryItemRunsExactlyOnceInContiguousRanges(int threads, int count)
    {
        using var pool = new WorkerPool(threads);
        for (int repeat = 0; repeat < 50; repeat++)
        {
            var r = new Record(count);
            pool.For(count, r);
            Assert.All(r.Hits, h => Assert.Equal(1, h));
            for (int i = 1; i < count; i++) Assert.True(r.Worker[i] >= r.Worker[i - 1], "ranges are contiguous and ordered");
        }
    }

    [Fact]
    public void ExceptionsReachTheCallerAndThePoolSurvives()
    {
        using var pool = new WorkerPool(2);
        Assert.Throws<InvalidOperationException>(() => pool.For(10, new Throw()));
        var r = new Record(10);
        pool.For(10, r);
        Assert.All(r.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void ConcurrentCallersAreSerialisedCorrectly()
    {
        using var pool = new WorkerPool(2);
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 50; i++)
            {
                var r = new Record(64);
                pool.For(64, r);
                Assert.All(r.Hits, h => Assert.Equal(1, h));
            }
        });
    }

    [Fact]
    public void DefaultIsPhysicalCores()
    {
        using var pool = new WorkerPool();
        Assert.Equal(CpuTopology.PhysicalCores, pool.Threads);
        Assert.InRange(CpuTopology.PhysicalCores, 1, Environment.ProcessorCount);
    }
}
