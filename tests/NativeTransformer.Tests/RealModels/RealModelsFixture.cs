using System.Diagnostics;
using System.Text.Json;

namespace NativeTransformer.Tests.RealModels;

/// <summary>
/// The two real pretrained models (sentence-transformers/all-MiniLM-L6-v2, Snowflake/snowflake-arctic-embed-xs), built
/// once per test run by ../shared/realmodels/fetch into a cache folder: $NT_REALMODELS, else the tool's default
/// ($XDG_CACHE_HOME or ~/.cache, then nativetransformer/realmodels). The tool is idempotent (sha256-checked), so a
/// later run only verifies the folders (~2 s). It needs nuget.org the first time. Anything missing is a failure of
/// every test in the collection (with the tool's stderr), never a skip.
/// </summary>
public sealed class RealModelsFixture
{
    public const string MiniLm = "all-MiniLM-L6-v2";
    public const string Arctic = "snowflake-arctic-embed-xs";
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromMinutes(10);

    public string Root { get; }
    public string Dir(string model) => Path.Combine(Root, model);
    /// <summary>../shared/realmodels/reference/&lt;model&gt;/public.*</summary>
    public static string Reference(string model) => Path.Combine(TestPaths.Shared, "realmodels", "reference", model);
    /// <summary>../shared/realmodels/REFERENCE_SCORES.json, parsed.</summary>
    public JsonElement Scores { get; }

    public RealModelsFixture()
    {
        Root = DefaultRoot();
        string project = Path.Combine(TestPaths.Shared, "realmodels", "fetch");
        if (!Directory.Exists(project))
            throw new InvalidOperationException($"real-model tests: {project} not found. These tests need ../shared beside the repository " +
                "(or NT_SHARED pointing at it); they fail rather than pass without it.");
        Fetch(project, Root);
        foreach (var m in new[] { MiniLm, Arctic })
            if (!File.Exists(Path.Combine(Dir(m), "model.safetensors")))
                throw new InvalidOperationException($"real-model tests: the fetch tool succeeded but {Dir(m)}/model.safetensors is missing");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.Shared, "realmodels", "REFERENCE_SCORES.json")));
        Scores = doc.RootElement.Clone();
    }

    private static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("NT_REALMODELS") is { Length: > 0 } env) return Path.GetFullPath(env);
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "nativetransformer", "realmodels");
    }

    /// <summary>dotnet run --project ../shared/realmodels/fetch -c Release -- ROOT, from the repository root.</summary>
    private static void Fetch(string project, string root)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            WorkingDirectory = TestPaths.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "run", "--project", project, "-c", "Release", "--", root }) psi.ArgumentList.Add(a);
        string command = $"dotnet {string.Join(' ', psi.ArgumentList)}";
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"real-model tests: could not start '{command}'");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(FetchTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"real-model tests: '{command}' did not finish within {FetchTimeout.TotalMinutes} minutes; stderr so far: {Tail(stderr)}");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"real-model tests: '{command}' failed with exit code {process.ExitCode} (it needs the .NET SDK and nuget.org " +
                $"the first time; NT_REALMODELS may point at an already built folder).\nstderr: {stderr.Result.Trim()}\nstdout: {Tail(stdout)}");
        FetchSeconds = sw.Elapsed.TotalSeconds;
    }

    /// <summary>How long the fetch tool took in this run (reported by a test).</summary>
    public static double FetchSeconds { get; private set; }

    private static string Tail(Task<string> output)
    {
        string s = output.IsCompletedSuccessfully ? output.Result.Trim() : "(not read)";
        return s.Length <= 2000 ? s : "…" + s[^2000..];
    }
}

/// <summary>Every real-model test class shares one fetch (and its classes run one after another: the STS-B runs are the
/// heaviest tests of the suite and would only compete for the same cores).</summary>
[CollectionDefinition(Name)]
public sealed class RealModelsCollection : ICollectionFixture<RealModelsFixture>
{
    public const string Name = "Real pretrained models";
}
