namespace NativeTransformer.Hub;

/// <summary>
/// An exclusive lock between processes sharing a cache folder: a lock file held open with <see cref="FileShare.None"/>,
/// which .NET maps to an advisory <c>flock(LOCK_EX)</c> on Unix and to a sharing mode on Windows. The operating
/// system drops it when the holder exits or crashes, so a stale lock file on disk never blocks anyone. The file is
/// left in place (deleting it would let a waiter lock an unlinked inode while a newcomer locks a fresh one).
/// </summary>
internal static class FileLock
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task<IDisposable> AcquireAsync(string path, TimeSpan timeout, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (File.Exists(path) && waited.Elapsed < timeout)
            {
                // Held by another download of the same blob: wait for it, then re-check whether the blob is there.
                await Task.Delay(Poll, ct).ConfigureAwait(false);
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw new HubException($"another process has been downloading into this cache for {timeout.TotalMinutes:0.#} minutes (lock {path}); " +
                    "wait for it, or remove the lock if no ntr/huggingface process is running", e);
            }
        }
    }
}
