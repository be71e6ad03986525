namespace NativeTransformer;

/// <summary>
/// Where per-user caches go (packed weights, the hub's downloads, the CLI's built-in model), resolved without ever
/// throwing. A scratch container or a chroot may have no home folder and no passwd entry: there
/// <see cref="Environment.UserName"/> throws ("No such file or directory") and the caches go to the temp directory.
/// </summary>
public static class UserFolders
{
    /// <summary>$XDG_CACHE_HOME when it is an absolute path, else ~/.cache when the home folder exists, else null.</summary>
    public static string? CacheHome()
    {
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)) return xdg;
        // Empty when the home folder does not exist (GetFolderPath checks).
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return home.Length > 0 ? Path.Combine(home, ".cache") : null;
    }

    /// <summary>A per-user folder in the temp directory, {temp}/ntr-{user}: the fallback when there is no cache home
    /// or it is read-only.</summary>
    public static string TempFolder() => Path.Combine(Path.GetTempPath(), "ntr-" + UserName());

    /// <summary>The user's name for folder names: the passwd name, else $USER / $LOGNAME, else "user"; path separators
    /// and other unsafe characters become '_'.</summary>
    private static string UserName()
    {
        string? name;
        try { name = Environment.UserName; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or PlatformNotSupportedException) { name = null; }
        if (string.IsNullOrEmpty(name)) name = Environment.GetEnvironmentVariable("USER");
        if (string.IsNullOrEmpty(name)) name = Environment.GetEnvironmentVariable("LOGNAME");
        if (string.IsNullOrEmpty(name)) return "user";
        return string.Create(name.Length, name, static (span, s) =>
        {
            for (int i = 0; i < s.Length; i++) span[i] = char.IsAsciiLetterOrDigit(s[i]) || s[i] is '-' or '_' or '.' ? s[i] : '_';
        });
    }
}
