namespace NativeTransformer.Tests;

/// <summary>Locates the repository root and the read-only ../shared folder beside it.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared relative to the repository root, or $NT_SHARED when set.</summary>
    public static string Shared { get; } =
        Environment.GetEnvironmentVariable("NT_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Model(string name) => Path.Combine(Shared, "models", name);
    public static string Reference(string name) => Path.Combine(Shared, "reference", name);
    public static string Data(params string[] parts) => Path.Combine([Shared, "data", .. parts]);
    public static string Fixtures(params string[] parts) => Path.Combine([RepoRoot, "tests", "fixtures", .. parts]);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeTransformer.sln"))) return dir.FullName;
        throw new InvalidOperationException("NativeTransformer.sln not found above " + AppContext.BaseDirectory);
    }
}
