using NativeTransformer.Hub;

namespace NativeTransformer.Cli.Commands;

/// <summary>
/// <c>--model owner/name[@revision]</c>: when the value is not an existing folder but looks like a hub id, the
/// model is resolved through the hub (HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE, HF_TOKEN) into the standard cache
/// and the snapshot folder is loaded like any other. A progress bar goes to stderr when it is a terminal.
/// </summary>
internal static class HubModels
{
    /// <summary>Tests point the CLI at a loopback hub without touching the process environment.</summary>
    internal static readonly AsyncLocal<HubOptions?> OptionsOverride = new();

    public static bool LooksLikeHubId(string value, out HubModelId? id)
    {
        id = null;
        return !Directory.Exists(value) && !File.Exists(value) && HubModelId.TryParse(value, out id);
    }

    public static string Resolve(HubModelId id, CliContext? ctx)
    {
        var options = OptionsOverride.Value ?? HubOptions.FromEnvironment();
        if (ctx is { StderrIsTerminal: true }) options = options with { Progress = new ProgressBar(ctx.Stderr).Report };
        return HubClient.Resolve(id, options);
    }

    /// <summary>One redrawn stderr line per file: name, bar, MB done/total; at most ~10 redraws a second.</summary>
    private sealed class ProgressBar(TextWriter stderr)
    {
        private long _lastDraw;

        public void Report(HubProgress p)
        {
            long now = Environment.TickCount64;
            if (!p.Finished && now - _lastDraw < 100) return;
            _lastDraw = now;
            const int Width = 30;
            string bar = p.Total is long t && t > 0
                ? new string('#', (int)(Width * Math.Min(1.0, (double)p.Done / t))).PadRight(Width, '.')
                : new string('?', Width);
            string total = p.Total is long tt ? $"/{tt / 1e6:0.0}" : "";
            stderr.Write($"\rdownloading {p.FileName} [{bar}] {p.Done / 1e6:0.0}{total} MB");
            if (p.Finished) stderr.Write("\n");
            stderr.Flush();
        }
    }
}
