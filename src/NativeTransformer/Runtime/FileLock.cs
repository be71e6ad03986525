namespace NativeTransformer;

/// <summary>
/// An exclusive lock between processes sharing a cache folder (hub downloads, the CLI's built-in model extraction): a
/// lock file held open with <see cref="FileShare.None"/>, which .NET maps to an advisory <c>flock(LOCK_EX)</c> on Unix
/// and to a sharing mode on Windows. The operating system drops it when the holder exits or crashes, so a stale lock
/// file on disk never blocks anyone. The file is left in place (deleting it would let a waiter lock an unlinked inode
/// while a newcomer locks a fresh one).
/// </summary>
public static class FileLock
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>Takes the lock at <paramref name="path"/> (creating its folder and file), waiting while another holder
    /// has it. Dispose the result to release it.</summary>
    /// <exception cref="TimeoutException">Another holder kept the lock for longer than <paramref name="timeout"/>; the
    /// message names the lock file.</exception>
    /// <exception cref="IOException">The lock file cannot be created (for example, a read-only folder:
    /// <see cref="UnauthorizedAccessException"/>).</exception>
    public static async Task<IDisposable> AcquireAsync(string path, TimeSpan timeout, CancellationToken ct = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (File.Exists(path) && waited.Elapsed < timeout)
            {
                await Task.Delay(Poll, ct).ConfigureAwait(false);   // held by another process (or thread)
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw new TimeoutException($"another process has held the lock {path} for over {Describe(timeout)}", e);
            }
        }
    }

    /// <summary>The blocking form of <see cref="AcquireAsync"/>.</summary>
    public static IDisposable Acquire(string path, TimeSpan timeout) => AcquireAsync(path, timeout).GetAwaiter().GetResult();

    private static string Describe(TimeSpan t) =>
        t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} minutes" : $"{t.TotalSeconds:0.###} s";
}
