// Why not System.CommandLine (issue 15 part 7, measured): a throwaway AOT publish of ntr (x86-64-v3) with
// System.CommandLine 3.0.0 referenced and a minimal use (one command, three options, one argument, Parse().Invoke())
// was 18,840,624 B against 18,300,240 B without: +540,384 B (+528 KiB), over the ~300 KB limit and past the 17.5 MiB
// (18,350,080 B) size budget. It also breaks the contract as configured by default: parse errors exit 1 (not 2)
// and print the whole help, an unknown option (--frob) is taken as the positional text, "@file" expands a response
// file, --int8=true is accepted. So ntr keeps this hand-written parser (docs/cli.md, "Why not System.CommandLine").
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

[assembly: InternalsVisibleTo("NativeTransformer.Tests")]

namespace NativeTransformer.Cli;

/// <summary>A command line that does not follow a command's usage (exit code 2).</summary>
public sealed class UsageException : Exception
{
    /// <summary>The command whose help the message should point to, or null for the top level.</summary>
    public string? Command { get; }
    public UsageException(string message, string? command = null) : base(message) => Command = command;
}

/// <summary>One option of a command: a flag (<c>--json</c>) or an option taking a value (<c>--model DIR</c>).</summary>
internal sealed record OptionSpec(string Name, string? ValueName, string Help)
{
    public bool IsFlag => ValueName is null;
}

/// <summary>What a command accepts: its options, an optional positional argument, and its help text.</summary>
internal sealed record CommandSpec(
    string Name,
    string Summary,
    string Usage,
    IReadOnlyList<OptionSpec> Options,
    string? PositionalName = null,
    string? Details = null)
{
    public OptionSpec? Find(string name)
    {
        foreach (var o in Options) if (o.Name == name) return o;
        return null;
    }

    public string HelpText()
    {
        var sb = new StringBuilder();
        sb.Append("Usage: ").Append(Usage).Append('\n').Append('\n').Append(Summary).Append('\n');
        if (Options.Count > 0)
        {
            sb.Append("\nOptions:\n");
            int width = 0;
            foreach (var o in Options) width = Math.Max(width, Label(o).Length);
            width = Math.Max(width, "-h, --help".Length);
            foreach (var o in Options)
                sb.Append("  ").Append(Label(o).PadRight(width + 2)).Append(o.Help).Append('\n');
            sb.Append("  ").Append("-h, --help".PadRight(width + 2)).Append("Show this help.\n");
        }
        if (Details is not null) sb.Append('\n').Append(Details.TrimEnd()).Append('\n');
        return sb.ToString();
    }

    private static string Label(OptionSpec o) => o.IsFlag ? o.Name : o.Name + " " + o.ValueName;
}

/// <summary>The parsed command line of one command.</summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    public CommandSpec Spec { get; }
    public List<string> Positionals { get; } = [];
    public bool HelpRequested { get; private set; }

    private ParsedArgs(CommandSpec spec) => Spec = spec;

    /// <summary>Parses <paramref name="args"/> (the words after the command name) against <paramref name="spec"/>.
    /// Accepts <c>--name value</c>, <c>--name=value</c>, flags, <c>--</c> (end of options) and <c>-</c> as a value
    /// or positional (stdin). Throws <see cref="UsageException"/> on anything else.</summary>
    public static ParsedArgs Parse(CommandSpec spec, IReadOnlyList<string> args)
    {
        var p = new ParsedArgs(spec);
        bool optionsEnded = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (optionsEnded || a == "-" || !a.StartsWith('-'))
            {
                p.AddPositional(a);
                continue;
            }
            if (a == "--") { optionsEnded = true; continue; }
            if (a is "-h" or "--help") { p.HelpRequested = true; continue; }

            string name = a;
            string? inline = null;
            int eq = a.IndexOf('=');
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 2) { name = a[..eq]; inline = a[(eq + 1)..]; }

            var opt = spec.Find(name)
                ?? throw new UsageException($"unknown option '{name}' for '{spec.Name}'", spec.Name);
            if (p._values.ContainsKey(opt.Name))
                throw new UsageException($"option '{opt.Name}' given more than once", spec.Name);
            if (opt.IsFlag)
            {
                if (inline is not null) throw new UsageException($"option '{opt.Name}' takes no value", spec.Name);
                p._values[opt.Name] = null;
                continue;
            }
            string? value = inline;
            if (value is null)
            {
                if (i + 1 >= args.Count || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1] != "--"))
                    throw new UsageException($"option '{opt.Name}' needs a value ({opt.ValueName})", spec.Name);
                value = args[++i];
            }
            p._values[opt.Name] = value;
        }
        return p;
    }

    private void AddPositional(string a)
    {
        if (Spec.PositionalName is null)
            throw new UsageException($"unexpected argument '{a}' for '{Spec.Name}'", Spec.Name);
        if (Positionals.Count >= 1)
            throw new UsageException($"too many arguments for '{Spec.Name}': '{a}'", Spec.Name);
        Positionals.Add(a);
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public string Required(string name)
    {
        var v = Get(name);
        if (string.IsNullOrEmpty(v)) throw new UsageException($"missing required option '{name}'", Spec.Name);
        return v;
    }

    /// <summary>The value of <paramref name="name"/> as a positive int, null when absent.</summary>
    public int? PositiveInt(string name)
    {
        var v = Get(name);
        if (v is null) return null;
        if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0)
            throw new UsageException($"option '{name}' needs a positive integer, got '{v}'", Spec.Name);
        return n;
    }

    /// <summary>The value of <paramref name="name"/> as a non-negative int (0 allowed); 0 when absent.</summary>
    public int NonNegativeInt(string name)
    {
        var v = Get(name);
        if (v is null) return 0;
        if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new UsageException($"option '{name}' needs a non-negative integer, got '{v}'", Spec.Name);
        return n;
    }

    /// <summary>The value of <paramref name="name"/> as one of <paramref name="choices"/>, null when absent.</summary>
    public string? Choice(string name, params string[] choices)
    {
        var v = Get(name);
        if (v is null) return null;
        foreach (var c in choices) if (string.Equals(c, v, StringComparison.OrdinalIgnoreCase)) return c;
        throw new UsageException($"option '{name}' must be one of {string.Join(", ", choices)}; got '{v}'", Spec.Name);
    }
}
