namespace NativeTransformer.Hub;

/// <summary>
/// The huggingface_hub cache layout for one model repository:
/// <c>{cache}/models--owner--name/{blobs/&lt;etag&gt;, snapshots/&lt;commit&gt;/&lt;file&gt;, refs/&lt;revision&gt;}</c>.
/// Blobs are named by the file's etag (git blob id, or sha256 for LFS files); snapshot entries are relative
/// symlinks to blobs (copies where symlinks cannot be made); refs/&lt;revision&gt; holds the commit id.
/// </summary>
internal sealed class HubCache(string cacheDirectory, string repoId)
{
    private readonly string _cacheDirectory = cacheDirectory;
    public string RepoDirectory { get; } = Path.Combine(cacheDirectory, "models--" + repoId.Replace("/", "--"));
    public string BlobsDirectory => Path.Combine(RepoDirectory, "blobs");

    public string BlobPath(string etag) => Path.Combine(BlobsDirectory, etag);
    public string IncompletePath(string etag) => BlobPath(etag) + ".incomplete";
    /// <summary>Where huggingface_hub keeps its per-blob lock files: <c>{cache}/.locks/models--owner--name/&lt;etag&gt;.lock</c>.</summary>
    public string LockPath(string etag) => Path.Combine(_cacheDirectory, ".locks", Path.GetFileName(RepoDirectory), etag + ".lock");
    public string SnapshotDirectory(string commit) => Path.Combine(RepoDirectory, "snapshots", commit);
    public string SnapshotPath(string commit, string fileName) => Path.Combine(SnapshotDirectory(commit), fileName.Replace('/', Path.DirectorySeparatorChar));
    private string RefPath(string revision) => Path.Combine(RepoDirectory, "refs", revision.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The commit a revision points to in the cache: the revision itself when it is a commit id,
    /// else the content of refs/&lt;revision&gt;; null when unknown.</summary>
    public string? CachedCommit(string revision)
    {
        if (HubModelId.IsCommitHash(revision)) return Directory.Exists(SnapshotDirectory(revision)) ? revision : null;
        string path = RefPath(revision);
        if (!File.Exists(path)) return null;
        string commit = File.ReadAllText(path).Trim();
        return HubModelId.IsCommitHash(commit) ? commit : null;
    }

    public void WriteRef(string revision, string commit)
    {
        if (revision == commit) return;
        string path = RefPath(revision);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) && File.ReadAllText(path).Trim() == commit) return;
        string tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(tmp, commit);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Makes snapshots/&lt;commit&gt;/&lt;file&gt; point at the blob: a relative symlink like huggingface_hub, or a
    /// copy when the file system refuses symlinks. Created under a temporary name and renamed into place.</summary>
    public void Link(string commit, string fileName, string etag)
    {
        string link = SnapshotPath(commit, fileName);
        string dir = Path.GetDirectoryName(link)!;
        Directory.CreateDirectory(dir);
        string blob = BlobPath(etag);
        string tmp = link + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            File.CreateSymbolicLink(tmp, Path.GetRelativePath(dir, blob));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, tmp, overwrite: true);
        }
        File.Move(tmp, link, overwrite: true);
    }
}
