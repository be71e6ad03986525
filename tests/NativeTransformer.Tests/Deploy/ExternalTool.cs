using System.Diagnostics;

namespace NativeTransformer.Tests.Deploy;

/// <summary>Finds and runs command-line tools these tests need but the repository does not ship (haproxy, kubectl,
/// yamllint); tests using them skip, naming the tool, when it is absent.</summary>
internal static class ExternalTool
{
    public static string? Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var dir in new[] { "/usr/sbin", "/sbin" })
            if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    public static string SkipReason(params string[] names)
    {
        var missing = names.Where(n => Find(n) is null).ToArray();
        return missing.Length == 0 ? "" : $"{string.Join(" and ", missing)} not installed (Debian: apt-get install -y {string.Join(' ', missing)}); this check was NOT run";
    }

    /// <summary>Runs <paramref name="tool"/> to completion (bounded: killed after <paramref name="timeoutMs"/>).</summary>
    public static (int ExitCode, string Output) Run(string tool, int timeoutMs, params string[] args)
    {
        var psi = new ProcessStartInfo(Find(tool)!, args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestPaths.RepoRoot,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} did not finish within {timeoutMs} ms");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>A fact that skips, with the reason, when one of the named tools is not installed.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] tools)
    {
        string reason = ExternalTool.SkipReason(tools);
        if (reason.Length > 0) Skip = reason;
    }
}
