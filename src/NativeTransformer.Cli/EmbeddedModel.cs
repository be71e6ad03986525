using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace NativeTransformer.Cli;

/// <summary>
/// The default model compiled into <c>ntr</c> (models/bert-tiny-sst2-int8, manifest resources named
/// <see cref="ResourcePrefix"/> + file name + ".deflate", Deflate-compressed by the build to keep the binary small).
/// The library loads model FOLDERS memory-mapped, so the resources are inflated once into a per-user cache folder
/// named after their contents and loaded from there like any other folder; later runs only stat the files. The
/// name and the file sizes come from the build: the csproj writes "&lt;sha256&gt;  &lt;length&gt;  &lt;file&gt;" per file into
/// the resource <see cref="ManifestResource"/> (hashing at run time would cost milliseconds per start and pull in
/// OpenSSL, a native dependency). Extraction is safe under concurrent first runs: the first process to take the
/// root's lock file inflates into a private temp folder and renames it into place; the others wait for the lock
/// and find the folder complete, so a folder under the key's name is always complete once it exists.
/// </summary>
internal static class EmbeddedModel
{
    public const string ResourcePrefix = "ntr.embedded-model/";
    public const string ManifestResource = "ntr.embedded-model.manifest";
    private const string CompressedSuffix = ".deflate";

    /// <summary>The name the model is shown under (inspect, help).</summary>
    public const string Name = "bert-tiny-sst2-int8";

    private static string? _directory;

    /// <summary>The extracted folder of the embedded model (extracting it on first use in this process).</summary>
    public static string Directory()
    {
        return _directory ??= ExtractTo(CacheRoots());
    }

    /// <summary>Candidate cache roots, best first: $XDG_CACHE_HOME/ntr/embedded, ~/.cache/ntr/embedded, then a
    /// per-user folder in the temp dir for machines whose home is read-only.</summary>
    internal static IEnumerable<string> CacheRoots()
    {
        if (UserFolders.CacheHome() is { } cache) yield return Path.Combine(cache, "ntr", "embedded");
        yield return Path.Combine(UserFolders.TempFolder(), "embedded");
    }

    /// <summary>Extracts the embedded files into the first writable root; returns the model folder.</summary>
    internal static string ExtractTo(IEnumerable<string> roots, TimeSpan? lockTimeout = null)
    {
        string manifest = ReadManifest();
        var files = ParseManifest(manifest);
        string hash = ContentKey(manifest);
        var failures = new List<string>();
        foreach (string root in roots)
        {
            try
            {
                return ExtractInto(root, hash, files, lockTimeout ?? DefaultLockTimeout);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures.Add($"{root}: {e.Message}");
            }
        }
        throw new IOException("cannot extract the embedded model into any cache folder (" + string.Join("; ", failures) + "); pass --model DIR");
    }

    /// <summary>One embedded file: its name in the model folder and its length once inflated.</summary>
    private sealed record EmbeddedFile(string Name, long Length)
    {
        // In a Native AOT binary the resource is a view of the mapped executable: only the inflated copy is written.
        public Stream Open() => new DeflateStream(
            typeof(EmbeddedModel).Assembly.GetManifestResourceStream(ResourcePrefix + Name + CompressedSuffix)
                ?? throw new InvalidOperationException($"this ntr lacks the embedded file {Name}; pass --model DIR"),
            CompressionMode.Decompress);
    }

    private static string ReadManifest()
    {
        using var s = typeof(EmbeddedModel).Assembly.GetManifestResourceStream(ManifestResource)
            ?? throw new InvalidOperationException("this ntr was built without an embedded model; pass --model DIR");
        using var reader = new StreamReader(s, Encoding.UTF8);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }

    /// <summary>The manifest's "&lt;sha256&gt;  &lt;length&gt;  &lt;file&gt;" lines as files, sorted by name.</summary>
    private static List<EmbeddedFile> ParseManifest(string manifest)
    {
        var files = new List<EmbeddedFile>();
        foreach (string line in manifest.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split("  ");
            if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long length))
                throw new InvalidOperationException($"{ManifestResource}: malformed line '{line}'");
            files.Add(new EmbeddedFile(parts[2], length));
        }
        if (files.Count == 0)
            throw new InvalidOperationException("this ntr was built without an embedded model; pass --model DIR");
        files.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
        return files;
    }

    /// <summary>The cache folder name: 64-bit FNV-1a of the build-time manifest (SHA-256 and length per file), so a
    /// change to any file gives a new folder. A cheap managed hash is enough: its input already holds SHA-256s.</summary>
    private static string ContentKey(string manifest)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(manifest))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return h.ToString("x16");
    }

    /// <summary>Test hook (this thread only): runs after the lock-free check found no complete folder, before
    /// taking the lock: the moment another process may finish its extraction.</summary>
    [ThreadStatic] internal static Action? AfterFirstCheck;

    /// <summary>How long a process waits for another one's extraction before giving up on a root.</summary>
    internal static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromMinutes(2);

    private static string ExtractInto(string root, string hash, List<EmbeddedFile> files, TimeSpan lockTimeout)
    {
        string final = Path.Combine(root, hash);
        if (IsComplete(final, files)) return final;   // every run after the first: a few stats, no lock
        AfterFirstCheck?.Invoke();

        // Only the lock holder creates, repairs or renames folders, so under the lock an incomplete folder is one a
        // user damaged, never one another process is renaming into place (moving that aside was a real race).
        using var held = LockRoot(root, lockTimeout);
        if (IsComplete(final, files)) return final;   // another process extracted it while we waited

        string temp = Path.Combine(root, $".{hash}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            System.IO.Directory.CreateDirectory(temp);
            foreach (var f in files)
            {
                using var fs = new FileStream(Path.Combine(temp, f.Name), FileMode.CreateNew, FileAccess.Write);
                using (var s = f.Open()) s.CopyTo(fs);
                fs.Flush(flushToDisk: true);
                if (fs.Length != f.Length) throw new IOException($"embedded {f.Name}: inflated to {fs.Length} bytes, the manifest says {f.Length}");
            }
            if (System.IO.Directory.Exists(final))
            {
                // Damaged by hand (a file deleted or truncated): move it aside so the rename below can succeed.
                string stale = Path.Combine(root, $".{hash}.stale-{Guid.NewGuid():N}");
                System.IO.Directory.Move(final, stale);
                System.IO.Directory.Delete(stale, recursive: true);
            }
            System.IO.Directory.Move(temp, final);
        }
        finally
        {
            try { if (System.IO.Directory.Exists(temp)) System.IO.Directory.Delete(temp, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        if (!IsComplete(final, files)) throw new IOException($"{final}: extracted model folder is incomplete");
        return final;
    }

    /// <summary>The root's lock (<see cref="FileLock"/>: flock, released by the kernel if the holder dies, so a crashed
    /// extraction never blocks later runs). A lock held past the timeout makes this root unusable, like a read-only one.</summary>
    private static IDisposable LockRoot(string root, TimeSpan timeout)
    {
        try
        {
            return FileLock.Acquire(Path.Combine(root, LockFileName), timeout);
        }
        catch (TimeoutException e)
        {
            throw new IOException(e.Message + " (another ntr extracting the built-in model)", e);
        }
    }

    /// <summary>The lock file's name inside a cache root.</summary>
    internal const string LockFileName = ".lock";

    /// <summary>Every embedded file is present with its size (folders only appear by rename, so this is cheap
    /// protection against a user deleting or truncating files, not a content check).</summary>
    private static bool IsComplete(string dir, List<EmbeddedFile> files)
    {
        foreach (var f in files)
        {
            var info = new FileInfo(Path.Combine(dir, f.Name));
            if (!info.Exists || info.Length != f.Length) return false;
        }
        return true;
    }
}
