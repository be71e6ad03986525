using System.Globalization;

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

    /// <summary>
    /// Parses the comma-separated numbers of option <paramref name="name"/> (e.g. "0,0.1,0.5"), each in
    /// [<paramref name="min"/>, <paramref name="max"/>] (or below max when <paramref name="maxExclusive"/>); absent = <paramref name="fallback"/>.
    /// Duplicates are dropped, order kept. Returns null on success, else the error message.
    /// </summary>
    public string? TryGetDoubles(string command, string name, double[] fallback, double min, double max, bool maxExclusive, out double[] values)
    {
        values = fallback;
        if (Get(name) is not { } text) return null;
        var list = new List<double>();
        foreach (var item in text.Split(','))
        {
            if (!double.TryParse(item.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= min && (maxExclusive ? v < max : v <= max)))
                return $"{command}: {name} takes comma-separated numbers in [{F(min)}, {F(max)}{(maxExclusive ? ")" : "]")}, got '{item.Trim()}' in '{text}'";
            if (!list.Contains(v)) list.Add(v);
        }
        values = [.. list];
        return null;
    }

    /// <summary>Comma-separated integers in [<paramref name="min"/>, <paramref name="max"/>]; as <see cref="TryGetDoubles"/>.</summary>
    public string? TryGetInts(string command, string name, int[] fallback, int min, int max, out int[] values)
    {
        values = fallback;
        if (Get(name) is not { } text) return null;
        var list = new List<int>();
        foreach (var item in text.Split(','))
        {
            if (!int.TryParse(item.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
                return $"{command}: {name} takes comma-separated integers from {min} to {max}, got '{item.Trim()}' in '{text}'";
            if (!list.Contains(v)) list.Add(v);
        }
        values = [.. list];
        return null;
    }

    /// <summary>Comma-separated words, each one of <paramref name="allowed"/>; as <see cref="TryGetDoubles"/>.</summary>
    public string? TryGetChoices(string command, string name, string[] fallback, string[] allowed, out string[] values)
    {
        values = fallback;
        if (Get(name) is not { } text) return null;
        var list = new List<string>();
        foreach (var raw in text.Split(','))
        {
            string item = raw.Trim();
            if (Array.IndexOf(allowed, item) < 0)
                return $"{command}: {name} takes a comma-separated list of {string.Join(", ", allowed)}, got '{item}' in '{text}'";
            if (!list.Contains(item)) list.Add(item);
        }
        values = [.. list];
        return null;
    }

    private static string F(double v) => v.ToString(CultureInfo.InvariantCulture);
}
