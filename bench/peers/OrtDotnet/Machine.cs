using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NativeTransformer.Bench.Peers;

/// <summary>What every result line records about the machine and the process.</summary>
internal static class Machine
{
    public static string Cpu()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { } catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>Peak resident set size of this process in MB (VmHWM on Linux): native ONNX Runtime memory included,
    /// which managed counters would miss.</summary>
    public static double PeakRssMb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException) { } catch (UnauthorizedAccessException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
    }

    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }

    /// <summary>Linear-interpolated percentile (numpy's default), as the other peers compute it.</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var s = values.OrderBy(v => v).ToArray();
        if (s.Length == 1) return s[0];
        double x = p / 100 * (s.Length - 1);
        int lo = (int)Math.Floor(x), hi = (int)Math.Ceiling(x);
        return s[lo] + (s[hi] - s[lo]) * (x - lo);
    }
}
