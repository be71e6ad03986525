using System.Globalization;
using NativeTransformer.Compression;
using NativeTransformer.Models;

namespace NativeTransformer.WeightsTools;

/// <summary><c>weights-tools drop-layers DIR --output DIR2 (--keep 0,1,3 | --drop-top K | --drop-every N)</c>.</summary>
public static class DropLayersCommand
{
    public const string Usage =
        "usage: weights-tools drop-layers DIR --output DIR2 (--keep 0,1,3 | --drop-top K | --drop-every N)";

    public const string HelpLine =
        "  drop-layers DIR --output DIR2 (--keep 0,1,3 | --drop-top K | --drop-every N)\n" +
        "                Write DIR2 with only the kept encoder layers (renumbered 0..k-1) and config.json's layer count\n" +
        "                updated; everything else copied. --drop-every N drops layers N-1, 2N-1, ... (0-based).\n" +
        "                Equals loading DIR with --keep-layers / --drop-top, bit for bit.\n";

    /// <summary>Exit codes: 0 ok, 1 error (NativeTransformerException / IO, printed by the caller), 2 usage.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ToolArgs.TryParse("drop-layers", args, allowPositional: true, ["--output", "--keep", "--drop-top", "--drop-every"], out var parsed) is { } error)
            return Fail(stderr, $"{error}\n{Usage}");
        string? input = parsed.Positional, output = parsed.Get("--output"), keepText = parsed.Get("--keep");
        int? dropTop = null, dropEvery = null;
        if (parsed.Get("--drop-top") is { } topText)
        {
            if (!int.TryParse(topText, NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1)
                return Fail(stderr, $"drop-layers: --drop-top must be a positive integer, got '{topText}'");
            dropTop = k;
        }
        if (parsed.Get("--drop-every") is { } everyText)
        {
            if (!int.TryParse(everyText, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 2)
                return Fail(stderr, $"drop-layers: --drop-every must be an integer of at least 2, got '{everyText}'");
            dropEvery = n;
        }
        if (input is null) return Fail(stderr, $"drop-layers: the model folder DIR is required\n{Usage}");
        if (output is null) return Fail(stderr, $"drop-layers: --output is required\n{Usage}");
        int chosen = (keepText is null ? 0 : 1) + (dropTop is null ? 0 : 1) + (dropEvery is null ? 0 : 1);
        if (chosen != 1) return Fail(stderr, $"drop-layers: give exactly one of --keep, --drop-top and --drop-every\n{Usage}");

        int[]? keepList = null;
        if (keepText is not null)
        {
            try { keepList = LayerSelection.ParseList(keepText); }
            catch (InputException e) { return Fail(stderr, "drop-layers: --keep: " + e.Message); }
        }
        var config = ModelConfig.Load(Path.Combine(input, "config.json"));
        var kept = LayerSelection.Resolve(config.NumLayers, keepList, dropTop, dropEvery)!;
        var result = LayerDropper.Drop(input, output, kept);
        stdout.Write($"kept layers {string.Join(",", result.KeptLayers)} of {result.OriginalLayers}: " +
                     $"{result.TensorsWritten} tensors written, {result.TensorsDropped} dropped -> {result.OutputDirectory}\n");
        return 0;
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message);
        return 2;
    }
}
