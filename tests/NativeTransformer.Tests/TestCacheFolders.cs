using System.Runtime.CompilerServices;

namespace NativeTransformer.Tests;

/// <summary>Keeps the in-process CLI tests' packed-weights cache (NTR_PACK_CACHE) in a per-run temp folder rather than the
/// user's ~/.cache/ntr/packed: test models are throwaway folders, their caches would only crowd the real one.</summary>
internal static class TestCacheFolders
{
    [ModuleInitializer]
    internal static void Init()
    {
        if (Environment.GetEnvironmentVariable("NTR_PACK_CACHE") is { Length: > 0 }) return;
        string dir = Path.Combine(Path.GetTempPath(), "nt-tests-packed-" + Environment.ProcessId);
        Environment.SetEnvironmentVariable("NTR_PACK_CACHE", dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } };
    }
}
