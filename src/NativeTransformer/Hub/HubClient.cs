using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace NativeTransformer.Hub;

/// <summary>
/// Resolves <c>owner/name[@revision]</c> to a local model folder through a Hugging Face-compatible hub, the way
/// huggingface_hub does: <c>GET {endpoint}/api/models/{repo}/revision/{rev}</c> gives the commit ("sha") and
/// the file list ("siblings"); each needed file's metadata comes from <c>HEAD {endpoint}/{repo}/resolve/{commit}/{file}</c>
/// (X-Linked-Etag / ETag = blob id, sha256 for LFS files; X-Linked-Size / Content-Length); the body is fetched with
/// GET into <c>blobs/{etag}.incomplete</c>, resumed with a Range request after a dropped connection, checked
/// against the size and (for LFS files) the sha256, then renamed into <c>blobs/</c>. Snapshot entries are made
/// only once every needed file is verified, so a snapshot folder is complete or absent.
/// A commit already complete in the cache costs one metadata request and no file requests; offline mode none;
/// an unreachable hub falls back to the cached snapshot of the revision when there is one.
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 5;
    private readonly HubOptions _options;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    public HubClient(HubOptions? options = null, HttpMessageHandler? handler = null)
    {
        _options = options ?? HubOptions.FromEnvironment();
        if (!Uri.TryCreate(_options.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new HubException($"hub endpoint '{_options.Endpoint}' is not an http(s) URL (HF_ENDPOINT)");
        _endpoint = endpoint;
        // Redirects are followed by hand: metadata must come from the hub's own answer (an LFS file redirects to a
        // CDN whose headers are not the hub's), and the token must not travel to another host.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = _options.Timeout },
            disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("ntr/0.1 (NativeTransformer)");
    }

    /// <summary>Resolves <paramref name="id"/> to the snapshot folder holding the files a model load needs.</summary>
    public string Resolve(HubModelId id) => ResolveAsync(id).GetAwaiter().GetResult();

    /// <summary>Convenience: resolve with options (default: the environment).</summary>
    public static string Resolve(HubModelId id, HubOptions? options)
    {
        using var client = new HubClient(options);
        return client.Resolve(id);
    }

    public async Task<string> ResolveAsync(HubModelId id, CancellationToken ct = default)
    {
        var cache = new HubCache(_options.CacheDirectory, id.RepoId);
        if (_options.Offline)
            return CompleteCachedSnapshot(cache, id) ?? throw new HubException(
                $"{id}: not in the hub cache ({cache.RepoDirectory}) and HF_HUB_OFFLINE is set; run once without HF_HUB_OFFLINE to download it");

        RepoRevisionInfo info;
        try
        {
            info = await GetRevisionInfoAsync(id, ct).ConfigureAwait(false);
        }
        catch (HubException e) when (e.InnerException is not null && CompleteCachedSnapshot(cache, id) is string cached)
        {
            // The hub is unreachable but this revision was fetched before: run from the cache, as huggingface_hub does.
            return cached;
        }
        string commit = info.Sha!;
        var siblings = info.Siblings!.Select(s => s.FileName).OfType<string>().Where(ModelFileSelection.IsSafeRelative).ToList();

        var pending = new List<(string File, string Etag)>();
        var initial = ModelFileSelection.Initial(siblings, id.ToString());
        foreach (var f in initial) await EnsureAsync(cache, id, commit, f, pending, ct).ConfigureAwait(false);
        string LocalPath(string f) =>
            pending.FirstOrDefault(p => p.File == f) is { Etag: not null } p ? cache.BlobPath(p.Etag) : cache.SnapshotPath(commit, f);
        foreach (var f in ModelFileSelection.FollowUps(siblings, initial, LocalPath, id.ToString()))
            await EnsureAsync(cache, id, commit, f, pending, ct).ConfigureAwait(false);

        foreach (var (file, etag) in pending) cache.Link(commit, file, etag);
        cache.WriteRef(id.Revision, commit);
        return cache.SnapshotDirectory(commit);
    }

    /// <summary>The cached snapshot for the revision when it has at least a config and weights; else null.</summary>
    private static string? CompleteCachedSnapshot(HubCache cache, HubModelId id)
    {
        if (cache.CachedCommit(id.Revision) is not string commit) return null;
        string dir = cache.SnapshotDirectory(commit);
        bool complete = File.Exists(Path.Combine(dir, "config.json")) &&
            (File.Exists(Path.Combine(dir, ModelFileSelection.SingleWeights)) || File.Exists(Path.Combine(dir, ModelFileSelection.WeightsIndex)));
        return complete ? dir : null;
    }

    private async Task<RepoRevisionInfo> GetRevisionInfoAsync(HubModelId id, CancellationToken ct)
    {
        var url = new Uri(_endpoint, $"api/models/{id.RepoId}/revision/{Uri.EscapeDataString(id.Revision)}");
        using var response = await SendAsync(HttpMethod.Get, url, null, id, null, followAllRedirects: false, ct).ConfigureAwait(false);
        ThrowForStatus(response, id, null);
        RepoRevisionInfo? info;
        try
        {
            using var cts = Timeout(ct);
            await using var body = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
            info = await JsonSerializer.DeserializeAsync(body, HubJsonContext.Default.RepoRevisionInfo, cts.Token).ConfigureAwait(false);
        }
        catch (JsonException e) { throw new HubException($"{id}: the hub's answer for {url} is not valid JSON: {e.Message}", e); }
        catch (Exception e) when (IsNetwork(e, ct)) { throw Network(id, url, e); }
        if (info?.Sha is not { Length: > 0 } sha || !IsSafeName(sha) || info.Siblings is null)
            throw new HubException($"{id}: the hub's answer for {url} has no \"sha\" or \"siblings\"");
        return info;
    }

    /// <summary>Makes sure one file is available: already in the snapshot (no request), its blob already cached
    /// (one HEAD), or downloaded and verified (HEAD + GET). New blobs are recorded in <paramref name="pending"/>.</summary>
    private async Task EnsureAsync(HubCache cache, HubModelId id, string commit, string file, List<(string, string)> pending, CancellationToken ct)
    {
        if (File.Exists(cache.SnapshotPath(commit, file))) return;
        var url = new Uri(_endpoint, $"{id.RepoId}/resolve/{commit}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");
        var (etag, size) = await HeadAsync(url, id, file, ct).ConfigureAwait(false);
        string blob = cache.BlobPath(etag);
        bool Missing() => !File.Exists(blob) || (size is long s && new FileInfo(blob).Length != s);
        if (Missing())
        {
            Directory.CreateDirectory(cache.BlobsDirectory);
            // Another process (or client) may be fetching the same blob into the same .incomplete file: one at a time.
            using (await LockBlobAsync(cache.LockPath(etag), ct).ConfigureAwait(false))
                if (Missing()) await DownloadAsync(url, cache.IncompletePath(etag), blob, etag, size, id, file, ct).ConfigureAwait(false);
        }
        pending.Add((file, etag));
    }

    private async Task<IDisposable> LockBlobAsync(string path, CancellationToken ct)
    {
        try
        {
            return await FileLock.AcquireAsync(path, _options.LockTimeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new HubException($"{e.Message}: another process is downloading the same file into this cache; " +
                "wait for it, or check that no ntr/huggingface process is stuck", e);
        }
    }

    private async Task<(string Etag, long? Size)> HeadAsync(Uri url, HubModelId id, string file, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Head, url, null, id, file, followAllRedirects: false, ct).ConfigureAwait(false);
        if ((int)response.StatusCode is >= 300 and < 400 || response.IsSuccessStatusCode)
        {
            string? etag = Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag");
            etag = etag is null ? null : NormalizeEtag(etag);
            if (etag is null || !IsSafeName(etag)) throw new HubException($"{id}: {file}: the hub gave no usable ETag for {url}");
            long? size = long.TryParse(Header(response, "X-Linked-Size"), out var linked) ? linked : response.Content.Headers.ContentLength;
            return (etag, size);
        }
        ThrowForStatus(response, id, file);
        throw new InvalidOperationException("unreachable");
    }

    private async Task DownloadAsync(Uri url, string incomplete, string blob, string etag, long? size, HubModelId id, string file, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
            if (size is long total && have > total) { File.Delete(incomplete); have = 0; }
            if (size is not long t || have < t)
            {
                try
                {
                    await FetchAsync(url, incomplete, have, size, id, file, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (IsNetwork(e, ct))
                {
                    // The partial file stays: the next attempt (or the next run) resumes it with a Range request.
                    if (attempt < _options.MaxAttempts) continue;
                    throw Network(id, url, e);
                }
            }
            break;
        }
        Verify(incomplete, etag, size, id, file);
        File.Move(incomplete, blob, overwrite: true);
        _options.Progress?.Invoke(new HubProgress(file, size ?? new FileInfo(blob).Length, size, Finished: true));
    }

    /// <summary>One GET of the file's remaining bytes, appended to <paramref name="incomplete"/>.</summary>
    private async Task FetchAsync(Uri url, string incomplete, long have, long? size, HubModelId id, string file, CancellationToken ct)
    {
        var range = have > 0 ? new RangeHeaderValue(have, null) : null;
        using var response = await SendAsync(HttpMethod.Get, url, range, id, file, followAllRedirects: true, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(incomplete);
            throw new HttpRequestException("the server refused to resume (416); starting over");
        }
        ThrowForStatus(response, id, file);
        // 206: the server resumed; 200: it sent the whole file, so what we had is dropped.
        bool append = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        if (!append) have = 0;
        await using var output = new FileStream(incomplete, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var cts = Timeout(ct);
        await using var body = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
        var buffer = new byte[1 << 16];
        long done = have;
        _options.Progress?.Invoke(new HubProgress(file, done, size, Finished: false));
        while (true)
        {
            cts.CancelAfter(_options.Timeout); // a stalled connection fails after Timeout without bytes
            int n = await body.ReadAsync(buffer, cts.Token).ConfigureAwait(false);
            if (n == 0) break;
            await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            done += n;
            if (size is long s && done > s) throw new HubException($"{id}: {file}: the download is larger than the announced {s} bytes");
            _options.Progress?.Invoke(new HubProgress(file, done, size, Finished: false));
        }
        if (size is long expected && done < expected)
            throw new IOException($"the connection closed after {done} of {expected} bytes");
    }

    /// <summary>Size check for every file; content check against the etag: sha256 for LFS files (64 hex digits), the git
    /// blob id — SHA-1 of <c>"blob {size}\0"</c> + content — for the small files the hub serves from git (40 hex digits).
    /// A file that fails is deleted.</summary>
    private static void Verify(string incomplete, string etag, long? size, HubModelId id, string file)
    {
        long length = new FileInfo(incomplete).Length;
        if (size is long s && length != s)
        {
            File.Delete(incomplete);
            throw new HubException($"{id}: {file}: downloaded {length} bytes, the hub announced {s}; the partial file was removed");
        }
        if (!etag.All(char.IsAsciiHexDigit) || etag.Length is not (64 or 40)) return;
        string actual, kind = etag.Length == 64 ? "sha256" : "git blob sha1";
        // Managed hashes (ManagedSha.cs): a plain-http hub mirror then needs no OpenSSL on the machine.
        using (var f = File.OpenRead(incomplete)) actual = etag.Length == 64 ? ManagedSha256.HashHex(f) : GitBlobSha1(f, length);
        if (!actual.Equals(etag, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(incomplete);
            throw new HubException($"{id}: {file}: {kind} mismatch (expected {etag}, got {actual}); the download was discarded");
        }
    }

    private static string GitBlobSha1(Stream content, long length)
    {
        var sha1 = new ManagedSha1();
        sha1.Append(System.Text.Encoding.ASCII.GetBytes($"blob {length}\0"));
        sha1.Append(content);
        return sha1.FinishHex();
    }

    /// <summary>Sends a request with the token (hub host only), following relative redirects (renamed repos) and,
    /// when <paramref name="followAllRedirects"/>, absolute ones too (LFS downloads live on a CDN).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, RangeHeaderValue? range, HubModelId id, string? file,
        bool followAllRedirects, CancellationToken ct)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            if (range is not null) request.Headers.Range = range;
            request.Headers.AcceptEncoding.ParseAdd("identity"); // sizes and hashes are of the raw bytes
            if (_options.Token is { Length: > 0 } token && url.Host == _endpoint.Host && url.Port == _endpoint.Port)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            HttpResponseMessage response;
            try
            {
                using var cts = Timeout(ct);
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (IsNetwork(e, ct))
            {
                if (method == HttpMethod.Get && file is not null) throw; // the download loop retries and resumes
                throw Network(id, url, e);
            }
            int code = (int)response.StatusCode;
            if (code is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is Uri location && hop < MaxRedirects)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                bool sameHost = next.Host == url.Host && next.Port == url.Port;
                if (followAllRedirects || sameHost)
                {
                    response.Dispose();
                    url = next;
                    continue;
                }
            }
            return response;
        }
    }

    private void ThrowForStatus(HttpResponseMessage response, HubModelId id, string? file)
    {
        if (response.IsSuccessStatusCode) return;
        int code = (int)response.StatusCode;
        string? errorCode = Header(response, "X-Error-Code");
        string what = file is null ? "" : $"{file}: ";
        string hint = _options.Token is null ? " (if it is private or gated, set HF_TOKEN)" : "";
        throw (code, errorCode) switch
        {
            (_, "RevisionNotFound") => new HubException($"{id}: revision '{id.Revision}' not found on {_options.Endpoint}"),
            (_, "EntryNotFound") => new HubException($"{id}: {what}file not found in the repository"),
            (_, "GatedRepo") => new HubException($"{id}: the repository is gated; accept its terms on the hub and set HF_TOKEN"),
            (404, _) when file is not null => new HubException($"{id}: {what}file not found in the repository"),
            (401 or 404, _) => new HubException($"{id}: repository not found on {_options.Endpoint}{hint}"),
            (403, _) => new HubException($"{id}: {what}access denied by {_options.Endpoint}{hint}"),
            _ => new HubException($"{id}: {what}{_options.Endpoint} answered {code} {response.ReasonPhrase}"),
        };
    }

    private CancellationTokenSource Timeout(CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_options.Timeout);
        return cts;
    }

    /// <summary>A connection-level failure (refused, reset, closed early, timed out), not the caller's cancellation.</summary>
    private static bool IsNetwork(Exception e, CancellationToken ct) =>
        e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested);

    private HubException Network(HubModelId id, Uri url, Exception e)
    {
        string reason = e is OperationCanceledException ? $"no answer within {_options.Timeout.TotalSeconds:0} s" : Reason(e);
        return new HubException($"{id}: network error fetching {url}: {reason}", e);
    }

    /// <summary>The message with its causes ("The SSL connection could not be established, see inner exception" alone
    /// does not say that the certificate was untrusted).</summary>
    internal static string Reason(Exception e)
    {
        string reason = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (!reason.Contains(inner.Message, StringComparison.Ordinal)) reason += ": " + inner.Message;
        return reason.Replace(", see inner exception.", "", StringComparison.Ordinal);
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) || r.Content.Headers.TryGetValues(name, out v) ? v.FirstOrDefault() : null;

    private static string NormalizeEtag(string etag)
    {
        if (etag.StartsWith("W/", StringComparison.Ordinal)) etag = etag[2..];
        return etag.Trim('"');
    }

    /// <summary>Blob and commit names become file names: only characters that cannot escape the cache folder.</summary>
    private static bool IsSafeName(string s) =>
        s.Length is > 0 and <= 128 && s[0] != '.' && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public void Dispose() => _http.Dispose();
}
