namespace NativeTransformer.Kernels;

/// <summary>
/// How many physical cores this process may use: the default thread count. SMT siblings share one
/// core's FMA units, so a second thread per core adds little to GEMM throughput and costs latency.
/// Linux: distinct <c>thread_siblings_list</c> sets under /sys; elsewhere (or on failure) the logical
/// count. Never more than <see cref="Environment.ProcessorCount"/> (which honours affinity and cgroup limits).
/// </summary>
public static class CpuTopology
{
    private static readonly Lazy<int> s_physical = new(Detect);

    public static int PhysicalCores => s_physical.Value;

    private static int Detect()
    {
        int logical = Environment.ProcessorCount;
        try
        {
            const string root = "/sys/devices/system/cpu";
            if (!Directory.Exists(root)) return logical;
            var cores = new HashSet<string>();
            foreach (var dir in Directory.EnumerateDirectories(root, "cpu*"))
            {
                string siblings = Path.Combine(dir, "topology", "thread_siblings_list");
                if (File.Exists(siblings)) cores.Add(File.ReadAllText(siblings).Trim());
            }
            return cores.Count == 0 ? logical : Math.Clamp(cores.Count, 1, logical);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return logical; }
    }
}
