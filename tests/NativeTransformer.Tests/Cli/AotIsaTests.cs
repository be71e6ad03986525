using NativeTransformer.Cli;

namespace NativeTransformer.Tests.Cli;

/// <summary>
/// The two AOT flavours (build/publish-aot.sh): ntr (x86-64-v3) runs its x86-64-v4 sibling ntr-avx512 on a CPU + OS
/// with AVX-512, so the AVX-512 kernels run there; NTR_ISA=avx2, or ntr without its sibling, keeps the AVX2 kernels.
/// The smoke cases, the hub and the serve tests run through the hand-over on an AVX-512 machine (stdio, exit codes
/// and SIGTERM forwarding).
/// </summary>
public partial class AotSmokeTests
{
    private static readonly string[] BenchArgs = ["bench", "--model", TestPaths.Model("bert-tiny-sst2"), "--seq", "8", "--warmup", "0", "--iterations", "1", "--json"];

    private SmokeOutput RunWith(string binary, Dictionary<string, string> env, params string[] args)
    {
        env["XDG_CACHE_HOME"] = aot.Cache;
        return AotProcess.Run(binary, args, "", env, TimeSpan.FromMinutes(1));
    }

    [AotFact]
    public void RunsTheAvx512KernelsExactlyWhereTheCpuHasThem()
    {
        AssertPublished();
        var auto = RunWith(aot.Binary, new(), BenchArgs);
        Assert.True(auto.ExitCode == 0, auto.Stderr);
        bool avx512 = IsaLauncher.CpuAndOsHaveAvx512();
        output.WriteLine($"CPU + OS AVX-512: {avx512}; ntr bench isa: {auto.Stdout}");
        Assert.Equal(avx512, auto.Stdout.Contains("avx512", StringComparison.Ordinal));
        Assert.Contains("avx", auto.Stdout, StringComparison.Ordinal);   // never scalar/vector128 in either flavour
    }

    [AotFact]
    public void RepublishingOneFlavourAfterTheOtherShipsItsOwnBinary()
    {
        // The fixture published v3 then v4. Each flavour links into its own folder: with one shared link folder, this
        // incremental v3 publish found the link "up to date" and shipped the v4 binary as ntr, which an AVX2-only CPU
        // refuses to start ("The required instruction sets are not supported by the current CPU.", exit 134).
        AssertPublished();
        string again = Path.Combine(aot.Root, "again", "ntr");
        var r = AotBinaryFixture.Publish(again, new() { ["NTR_AOT_FLAVOURS"] = "v3" });
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.True(File.ReadAllBytes(aot.Binary).AsSpan().SequenceEqual(File.ReadAllBytes(again)), "the republished v3 ntr differs from the first one");
    }

    [AotFact]
    public void Avx2IsChosenByEnvironmentOrByAMissingSibling()
    {
        AssertPublished();
        var forced = RunWith(aot.Binary, new() { [IsaLauncher.EnvVar] = "avx2" }, BenchArgs);
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.DoesNotContain("avx512", forced.Stdout, StringComparison.Ordinal);

        string alone = Path.Combine(aot.Root, "alone");
        Directory.CreateDirectory(alone);
        File.Copy(aot.Binary, Path.Combine(alone, "ntr"), overwrite: true);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(alone, "ntr"), File.GetUnixFileMode(aot.Binary));
        var single = RunWith(Path.Combine(alone, "ntr"), new(), BenchArgs);
        Assert.True(single.ExitCode == 0, single.Stderr);
        Assert.DoesNotContain("avx512", single.Stdout, StringComparison.Ordinal);

        var insist = RunWith(Path.Combine(alone, "ntr"), new() { [IsaLauncher.EnvVar] = "avx512" }, BenchArgs);
        Assert.Equal(2, insist.ExitCode);
        Assert.Contains("NTR_ISA=avx512 but there is no", insist.Stderr, StringComparison.Ordinal);
    }

    [AotFact]
    public void AnUnknownIsaChoiceIsAUsageError()
    {
        AssertPublished();
        var r = RunWith(aot.Binary, new() { [IsaLauncher.EnvVar] = "avx1024" }, "classify", "a gorgeous, witty movie");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("NTR_ISA must be avx2 or avx512, not 'avx1024'", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    [AotFact]
    public void TheSiblingsExitCodeAndStreamsComeThrough()
    {
        AssertPublished();
        // Without AVX-512 the x86-64-v4 sibling cannot start at all (the runtime aborts, 134) and the launcher keeps
        // the AVX2 kernels itself, so the reference is then ntr with NTR_ISA=avx2.
        var direct = IsaLauncher.CpuAndOsHaveAvx512()
            ? RunWith(aot.Binary + IsaLauncher.SiblingSuffix, new(), "classify", "--model", "/nonexistent-model-dir", "x")
            : RunWith(aot.Binary, new() { [IsaLauncher.EnvVar] = "avx2" }, "classify", "--model", "/nonexistent-model-dir", "x");
        var viaLauncher = RunWith(aot.Binary, new(), "classify", "--model", "/nonexistent-model-dir", "x");
        Assert.NotEqual(0, direct.ExitCode);
        Assert.Equal(direct.ExitCode, viaLauncher.ExitCode);
        Assert.Equal(direct.Stderr, viaLauncher.Stderr);
        Assert.Equal(direct.Stdout, viaLauncher.Stdout);
    }
}

/// <summary>The /proc/cpuinfo check: AVX-512 counts only when the kernel lists all of the x86-64-v4 set.</summary>
public class IsaLauncherCpuinfoTests
{
    [Theory]
    [InlineData("flags\t\t: fpu sse2 avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512vbmi", true)]
    [InlineData("flags\t\t: fpu sse2 avx avx2 fma bmi2", false)]
    [InlineData("flags\t\t: fpu avx2 avx512f avx512cd", false)]                       // Knights Landing: no BW/DQ/VL
    [InlineData("flags\t\t: fpu avx2 avx512f avx512dq avx512cd avx512bw avx512vlx", false)] // a prefix is not a flag
    [InlineData("processor\t: 0\nmodel name\t: x", false)]                            // no flags line
    public void ListsAvx512OnlyWithTheWholeV4Set(string cpuinfo, bool expected)
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "processor\t: 0\n" + cpuinfo + "\n");
            Assert.Equal(expected, IsaLauncher.KernelListsAvx512(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AMissingFileIsNoAvx512() => Assert.False(IsaLauncher.KernelListsAvx512("/nonexistent/cpuinfo"));
}
