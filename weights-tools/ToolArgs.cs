namespace NativeTransformer.WeightsTools;

/// <summary>
/// The argument shape every weights-tools command takes: at most one positional argument (a folder) and
/// <c>--name value</c> options from a known list. Commands validate the values themselves.
/// </summary>
internal sealed class ToolArgs
{
    public string? Positional { get; private set; }
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    /// <summary>Parses <paramref name="args"/>; returns null on success, else the error message (prefixed with the command).</summary>
    public static string? TryParse(string command, string[] args, bool allowPositional, string[] options, out ToolArgs parsed)
    {
        parsed = new ToolArgs();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (allowPositional && !a.StartsWith("--", StringComparison.Ordinal))
            {
                if (parsed.Positional is not null) return $"{command}: unexpected argument '{a}'";
                parsed.Positional = a;
                continue;
            }
            if (Array.IndexOf(options, a) < 0) return $"{command}: unknown argument '{a}'";
            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)) return $"{command}: {a} needs a value";
            parsed._values[a] = args[++i];
        }
        return null;
    }
}
