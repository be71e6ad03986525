using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace NativeTransformer.Tests.Hub;

/// <summary>
/// A Hugging Face-compatible hub on 127.0.0.1 for tests, serving model folders under the hub's URL scheme:
/// <c>GET /api/models/{repo}/revision/{rev}</c> → {"id", "sha", "siblings"}; <c>HEAD|GET /{repo}/resolve/{rev}/{file}</c>
/// with X-Repo-Commit, ETag (git blob sha1 for small files) and, for *.safetensors (LFS), a 302 to /cdn/{sha256} with
/// X-Linked-Etag = sha256 and X-Linked-Size; the CDN honours Range. Unknown repos answer 401 RepoNotFound like the
/// real hub. Faults: drop the connection once mid-file, or serve a corrupted body. Every request is logged.
/// </summary>
internal sealed class LoopbackHub : IDisposable
{
    public sealed record Repo(string Sha, Dictionary<string, byte[]> Files, string[] ListedOnly);
    public sealed record Request(string Method, string Path, string? Range, string? Host, bool Authorized);

    private static readonly ConcurrentDictionary<string, byte[]> FileCache = new();
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Repo> _repos = new();
    private readonly ConcurrentQueue<Request> _log = new();
    private readonly Task _loop;
    private readonly int _port;

    public string Endpoint { get; }
    public IReadOnlyCollection<Request> Requests => _log.ToArray();
    /// <summary>File name whose next GET body is cut after half its bytes (once).</summary>
    public string? DropOnce { get; set; }
    /// <summary>File name whose GET bodies have one byte flipped.</summary>
    public string? Corrupt { get; set; }

    public LoopbackHub()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add($"http://localhost:{port}/"); // the "CDN" host: another host name, same listener
            try { _listener.Start(); Endpoint = $"http://127.0.0.1:{port}"; _port = port; break; }
            catch (HttpListenerException) when (attempt < 5) { }
        }
        _loop = Task.Run(Loop);
    }

    /// <summary>Serves <paramref name="folder"/> as <paramref name="repoId"/>, plus extra in-memory files and names
    /// listed in siblings but never meant to be fetched (e.g. pytorch_model.bin).</summary>
    public Repo Add(string repoId, string folder, Dictionary<string, byte[]>? extra = null, params string[] listedOnly)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), f => FileCache.GetOrAdd(f, File.ReadAllBytes));
        foreach (var (k, v) in extra ?? []) files[k] = v;
        var repo = new Repo(Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(repoId + folder))), files, listedOnly);
        lock (_repos) _repos[repoId] = repo;
        return repo;
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
    private static string GitBlobSha(byte[] data) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {data.Length}\0"), .. data]));

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(() => Handle(ctx));
        }
    }

    private void Handle(HttpListenerContext ctx)
    {
        var req = ctx.Request;
        var res = ctx.Response;
        string path = Uri.UnescapeDataString(req.Url!.AbsolutePath);
        _log.Enqueue(new Request(req.HttpMethod, path, req.Headers["Range"], req.Url.Host, req.Headers["Authorization"] is not null));
        try
        {
            if (path.StartsWith("/api/models/")) Api(path["/api/models/".Length..], res);
            else if (path.StartsWith("/cdn/")) Cdn(path["/cdn/".Length..], req, res);
            else Resolve(path[1..], req, res);
        }
        catch (IOException) { }
        catch (HttpListenerException) { }
        finally
        {
            try { res.Close(); } catch (Exception) { }
        }
    }

    private Repo? Find(string repoId) { lock (_repos) return _repos.GetValueOrDefault(repoId); }

    private void Api(string rest, HttpListenerResponse res)
    {
        // {owner}/{name}/revision/{rev}
        var parts = rest.Split('/', 4);
        var repo = parts.Length == 4 && parts[2] == "revision" ? Find(parts[0] + "/" + parts[1]) : null;
        if (repo is null) { Error(res, 401, "RepoNotFound"); return; }
        if (parts[3] != "main" && parts[3] != repo.Sha) { Error(res, 404, "RevisionNotFound"); return; }
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["id"] = parts[0] + "/" + parts[1],
            ["sha"] = repo.Sha,
            ["siblings"] = repo.Files.Keys.Concat(repo.ListedOnly).Select(f => new Dictionary<string, string> { ["rfilename"] = f }).ToArray(),
        });
        res.ContentType = "application/json";
        Body(res, json, 0);
    }

    private void Resolve(string rest, HttpListenerRequest req, HttpListenerResponse res)
    {
        // {owner}/{name}/resolve/{rev}/{file...}
        var parts = rest.Split('/', 5);
        var repo = parts.Length == 5 && parts[2] == "resolve" ? Find(parts[0] + "/" + parts[1]) : null;
        if (repo is null) { Error(res, 401, "RepoNotFound"); return; }
        if (parts[3] != "main" && parts[3] != repo.Sha) { Error(res, 404, "RevisionNotFound"); return; }
        if (!repo.Files.TryGetValue(parts[4], out var data)) { Error(res, 404, "EntryNotFound"); return; }
        res.AddHeader("X-Repo-Commit", repo.Sha);
        if (parts[4].EndsWith(".safetensors"))
        {
            // LFS: the hub redirects to its CDN; the metadata is on the redirect.
            string sha = Sha256(data);
            lock (_repos) _cdn[sha] = (parts[4], data);
            res.StatusCode = 302;
            res.AddHeader("Location", $"http://localhost:{_port}/cdn/{sha}");
            res.AddHeader("X-Linked-Etag", $"\"{sha}\"");
            res.AddHeader("X-Linked-Size", data.Length.ToString());
            res.AddHeader("ETag", "\"" + GitBlobSha(Encoding.UTF8.GetBytes("lfs pointer " + sha)) + "\"");
            res.ContentLength64 = 0;
            return;
        }
        res.AddHeader("ETag", $"\"{GitBlobSha(data)}\"");
        if (req.HttpMethod == "HEAD") { res.ContentLength64 = data.Length; return; }
        Serve(parts[4], data, req, res);
    }

    private readonly Dictionary<string, (string Name, byte[] Data)> _cdn = new();

    private void Cdn(string sha, HttpListenerRequest req, HttpListenerResponse res)
    {
        (string Name, byte[] Data) entry;
        lock (_repos) if (!_cdn.TryGetValue(sha, out entry)) { Error(res, 404, "EntryNotFound"); return; }
        Serve(entry.Name, entry.Data, req, res);
    }

    private void Serve(string name, byte[] data, HttpListenerRequest req, HttpListenerResponse res)
    {
        long from = 0;
        if (req.Headers["Range"] is string range && range.StartsWith("bytes=") && range.EndsWith('-'))
        {
            from = long.Parse(range["bytes=".Length..^1]);
            if (from >= data.Length) { res.StatusCode = 416; res.ContentLength64 = 0; return; }
            res.StatusCode = 206;
            res.AddHeader("Content-Range", $"bytes {from}-{data.Length - 1}/{data.Length}");
        }
        res.AddHeader("Accept-Ranges", "bytes");
        if (req.HttpMethod == "HEAD") { res.ContentLength64 = data.Length - from; return; }
        if (Corrupt == name)
        {
            data = (byte[])data.Clone();
            data[data.Length / 2] ^= 0x5A;
        }
        if (DropOnce == name && from == 0)
        {
            DropOnce = null;
            res.ContentLength64 = data.Length;
            res.OutputStream.Write(data, 0, data.Length / 2);
            res.OutputStream.Flush();
            res.Abort(); // the connection dies mid-body
            return;
        }
        Body(res, data, from);
    }

    private static void Body(HttpListenerResponse res, byte[] data, long from)
    {
        res.ContentLength64 = data.Length - from;
        res.OutputStream.Write(data, (int)from, (int)(data.Length - from));
    }

    private static void Error(HttpListenerResponse res, int status, string code)
    {
        res.StatusCode = status;
        res.AddHeader("X-Error-Code", code);
        Body(res, Encoding.UTF8.GetBytes($"{{\"error\":\"{code}\"}}"), 0);
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(1000); } catch (AggregateException) { }
    }
}
