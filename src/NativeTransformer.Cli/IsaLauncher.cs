using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace NativeTransformer.Cli;

/// <summary>
/// Native AOT compiles every instruction set outside its baseline as absent (ILC adds AVX-512 to its "use if present"
/// list only when AVX-512 is already in the baseline; docs/aot.md), so one binary cannot hold both the AVX2 and the
/// AVX-512 kernels. The release therefore ships two: <c>ntr</c> (x86-64-v3) and <c>ntr-avx512</c> (x86-64-v4) side by
/// side. When the x86-64-v3 <c>ntr</c> finds itself on a CPU + OS with AVX-512 and the sibling next to it, it runs the
/// sibling with the same arguments, stdio and environment, forwards termination signals, and returns its exit code.
/// NTR_ISA=avx2 keeps the x86-64-v3 code; NTR_ISA=avx512 insists on the sibling.
/// </summary>
internal static class IsaLauncher
{
    public const string EnvVar = "NTR_ISA";
    /// <summary>The sibling is this file's name plus this suffix, in the same folder: ntr -> ntr-avx512.</summary>
    public const string SiblingSuffix = "-avx512";

    /// <summary>The sibling's exit code when it was run, null when this process should go on itself.</summary>
    public static int? TryRunAvx512Sibling(string[] args, TextWriter stderr)
    {
        // In the x86-64-v4 binary (and under the JIT on an AVX-512 CPU) this is a constant true: nothing to do.
        if (Avx512F.IsSupported || RuntimeFeature.IsDynamicCodeSupported || !OperatingSystem.IsLinux()) return null;
        string? choice = Environment.GetEnvironmentVariable(EnvVar);
        if (choice is "avx2") return null;
        string? self = Environment.ProcessPath;
        string? sibling = self is null ? null : self + SiblingSuffix; // ProcessPath is /proc/self/exe: links resolved
        bool insist = choice is "avx512";
        if (!insist)
        {
            if (!string.IsNullOrEmpty(choice))
            {
                stderr.WriteLine($"ntr: {EnvVar} must be avx2 or avx512, not '{choice}'");
                return 2;
            }
            if (sibling is null || !File.Exists(sibling) || !CpuAndOsHaveAvx512()) return null;
        }
        else if (sibling is null || !File.Exists(sibling))
        {
            stderr.WriteLine($"ntr: {EnvVar}=avx512 but there is no {self}{SiblingSuffix}");
            return 2;
        }
        return RunSibling(sibling!, args, stderr);
    }

    /// <summary>AVX-512 F, BW, CD, DQ and VL (the x86-64-v4 set) in CPUID leaf 7, and in the kernel's flags:
    /// Linux lists avx512* in /proc/cpuinfo only when it saves the ZMM/opmask state (XCR0), i.e. when the OS
    /// supports them too. CPUID first, so an AVX2-only machine never reads the file.</summary>
    internal static bool CpuAndOsHaveAvx512()
    {
        if (X86Base.CpuId(0, 0).Eax < 7) return false;
        const int f = 1 << 16, dq = 1 << 17, cd = 1 << 28, bw = 1 << 30, vl = 1 << 31;
        int ebx = X86Base.CpuId(7, 0).Ebx;
        if ((ebx & (f | dq | cd | bw | vl)) != (f | dq | cd | bw | vl)) return false;
        return KernelListsAvx512("/proc/cpuinfo");
    }

    internal static bool KernelListsAvx512(string cpuinfoPath)
    {
        try
        {
            foreach (string line in File.ReadLines(cpuinfoPath))
            {
                if (!line.StartsWith("flags", StringComparison.Ordinal)) continue;
                var flags = new HashSet<string>(line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
                return flags.Contains("avx512f") && flags.Contains("avx512bw") && flags.Contains("avx512cd")
                    && flags.Contains("avx512dq") && flags.Contains("avx512vl");
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return false;
    }

    static int RunSibling(string sibling, string[] args, TextWriter stderr)
    {
        var psi = new ProcessStartInfo(sibling) { UseShellExecute = false }; // stdio and environment inherited
        foreach (string a in args) psi.ArgumentList.Add(a);
        Process child;
        try { child = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            stderr.WriteLine($"ntr: cannot start {sibling}: {e.Message}");
            return 126;
        }
        using (child)
        {
            // While the child runs, termination signals are the child's to act on (ntr serve drains and stops):
            // forward them and keep waiting. A terminal's Ctrl+C reaches both processes already; a second SIGINT
            // is harmless. Without P/Invoke there is no kill(2): kill(1) sends the signal.
            var registrations = new List<PosixSignalRegistration>();
            foreach (var (signal, name) in new[] { (PosixSignal.SIGTERM, "TERM"), (PosixSignal.SIGINT, "INT"), (PosixSignal.SIGHUP, "HUP"), (PosixSignal.SIGQUIT, "QUIT") })
                registrations.Add(PosixSignalRegistration.Create(signal, ctx => { ctx.Cancel = true; Forward(child, name); }));
            child.WaitForExit();
            foreach (var r in registrations) r.Dispose();
            return child.ExitCode; // a child ended by a signal reports 128 + its number, as a shell does
        }
    }

    static void Forward(Process child, string signal)
    {
        try
        {
            // stderr redirected: a child that has just exited makes kill(1) complain, and that is no news to the user.
            var psi = new ProcessStartInfo("kill") { UseShellExecute = false, RedirectStandardError = true };
            psi.ArgumentList.Add("-" + signal);
            psi.ArgumentList.Add(child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var k = Process.Start(psi)!;
            k.StandardError.ReadToEnd();
            k.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            if (signal is "TERM" or "QUIT") try { child.Kill(); } catch (InvalidOperationException) { }
        }
    }
}
