namespace NativeTransformer.Hub;

/// <summary>Where the hub is and where its files are cached. <see cref="FromEnvironment"/> reads the same variables
/// as huggingface_hub; tests and servers pass explicit values instead of touching the process environment.</summary>
public sealed record HubOptions
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Base URL of the hub (HF_ENDPOINT), without a trailing slash.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>HF_HOME: the cache lives in <c>{Home}/hub</c> unless <see cref="HubCache"/> overrides it.</summary>
    public string Home { get; init; } = DefaultHome();

    /// <summary>HF_HUB_CACHE: an explicit hub cache folder (default <c>{Home}/hub</c>).</summary>
    public string? HubCache { get; init; }

    /// <summary>HF_HUB_OFFLINE: use the cache only; never open a connection.</summary>
    public bool Offline { get; init; }

    /// <summary>HF_TOKEN: sent as a bearer token to the hub (never to another host a download redirects to).</summary>
    public string? Token { get; init; }

    /// <summary>Called while a file downloads (throttled by the caller if it draws anything).</summary>
    public Action<HubProgress>? Progress { get; init; }

    /// <summary>Per-request timeout for metadata requests and for a download that stops delivering bytes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts per file when the connection drops mid-download; each retry resumes with a Range request.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>How long to wait for another process that is downloading the same file into the same cache.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public string CacheDirectory => HubCache ?? Path.Combine(Home, "hub");

    /// <summary>HF_ENDPOINT, HF_HOME (else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface, else
    /// {temp}/ntr-{user}/huggingface on a machine without a home folder), HF_HUB_CACHE,
    /// HF_HUB_OFFLINE (1/true/yes/on), HF_TOKEN.</summary>
    public static HubOptions FromEnvironment() => new()
    {
        Endpoint = (Env("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
        Home = Env("HF_HOME") ?? DefaultHome(),
        HubCache = Env("HF_HUB_CACHE"),
        Offline = Env("HF_HUB_OFFLINE") is string o && o.Trim().ToUpperInvariant() is "1" or "TRUE" or "YES" or "ON",
        Token = Env("HF_TOKEN"),
    };

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    private static string DefaultHome() => Path.Combine(UserFolders.CacheHome() ?? UserFolders.TempFolder(), "huggingface");
}

/// <summary>Download progress of one file: bytes on disk so far (including a resumed part) and the expected total.</summary>
public readonly record struct HubProgress(string FileName, long Done, long? Total, bool Finished);
