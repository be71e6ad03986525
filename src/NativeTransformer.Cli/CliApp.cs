using System.Reflection;
using System.Text;
using NativeTransformer.Cli.Commands;

namespace NativeTransformer.Cli;

/// <summary>The streams and terminal facts a command runs with.</summary>
internal sealed record CliContext(TextReader Stdin, TextWriter Stdout, TextWriter Stderr, bool StderrIsTerminal);

/// <summary>
/// The <c>ntr</c> command line. Exit codes: 0 success; 1 runtime or input error (bad model folder, bad input
/// file, I/O failure); 2 usage error (unknown command or option, missing or malformed option value);
/// 70 unexpected internal error (a bug). Every error is ONE line on stderr, <c>ntr: error: &lt;message&gt;</c>;
/// stack traces are printed only for internal errors and only when NTR_DEBUG=1.
/// </summary>
public static class CliApp
{
    public const int ExitOk = 0, ExitError = 1, ExitUsage = 2, ExitInternal = 70;

    /// <summary>The version `ntr --version` prints: the assembly's informational version (VersionPrefix in
    /// Directory.Build.props, or -p:Version=...) without the SDK's "+commit" suffix. Attribute reads are AOT-safe.</summary>
    public static readonly string Version = StripBuildMetadata(
        typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CliApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    private static string StripBuildMetadata(string version) => version.Split('+')[0];

    internal static readonly CommandSpec[] Commands =
    [
        TokenizeCommand.Spec, EmbedCommand.Spec, ClassifyCommand.Spec, RerankCommand.Spec, NerCommand.Spec, FillMaskCommand.Spec, QaCommand.Spec,
        EncodeCommand.Spec, EvalCommand.Spec, InspectCommand.Spec, BenchCommand.Spec, ServeCommand.Spec,
    ];

    /// <summary>Runs one command line; never throws. Progress output is off (stderr treated as redirected).</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
        => Run(args, stdin, stdout, stderr, stderrIsTerminal: false);

    /// <summary>Runs one command line; never throws. <paramref name="stderrIsTerminal"/> enables progress on stderr (eval).</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal)
    {
        var ctx = new CliContext(stdin, stdout, stderr, stderrIsTerminal);
        int code;
        try
        {
            code = Dispatch(args, ctx);
            stdout.Flush();
        }
        catch (Exception e)
        {
            code = Report(Unwrap(e), stdout, stderr);
        }
        try { stderr.Flush(); } catch (IOException) { }
        return code;
    }

    private static int Dispatch(string[] args, CliContext ctx)
    {
        if (args.Length == 0) throw new UsageException("no command given; commands: " + string.Join(", ", Commands.Select(c => c.Name)) + " (see 'ntr --help')");
        string first = args[0];
        if (first is "-h" or "--help" or "help")
        {
            if (first == "help" && args.Length > 1) return Dispatch([args[1], "--help"], ctx);
            ctx.Stdout.Write(MainHelp());
            return ExitOk;
        }
        if (first is "--version" or "-V" or "version")
        {
            ctx.Stdout.Write($"ntr {Version} ({System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})\n");
            return ExitOk;
        }
        if (first.StartsWith('-')) throw new UsageException($"unknown option '{first}' (expected a command first; see 'ntr --help')");

        var rest = args.AsSpan(1).ToArray();
        CommandSpec spec = Array.Find(Commands, c => c.Name == first)
            ?? throw new UsageException($"unknown command '{first}'; commands: {string.Join(", ", Commands.Select(c => c.Name))}");
        // serve takes a repeatable --model, which the shared parser refuses: it parses its own words.
        if (spec.Name == ServeCommand.Name) return ServeCommand.Run(rest, ctx);
        var parsed = ParsedArgs.Parse(spec, rest);
        if (parsed.HelpRequested)
        {
            ctx.Stdout.Write(spec.HelpText());
            return ExitOk;
        }
        return spec.Name switch
        {
            TokenizeCommand.Name => TokenizeCommand.Run(parsed, ctx),
            EmbedCommand.Name => EmbedCommand.Run(parsed, ctx),
            ClassifyCommand.Name => ClassifyCommand.Run(parsed, ctx),
            NerCommand.Name => NerCommand.Run(parsed, ctx),
            RerankCommand.Name => RerankCommand.Run(parsed, ctx),
            FillMaskCommand.Name => FillMaskCommand.Run(parsed, ctx),
            QaCommand.Name => QaCommand.Run(parsed, ctx),
            EncodeCommand.Name => EncodeCommand.Run(parsed, ctx),
            EvalCommand.Name => EvalCommand.Run(parsed, ctx),
            InspectCommand.Name => InspectCommand.Run(parsed, ctx),
            BenchCommand.Name => BenchCommand.Run(parsed, ctx),
            _ => throw new InvalidOperationException("unhandled command " + spec.Name),
        };
    }

    private static int Report(Exception e, TextWriter stdout, TextWriter stderr)
    {
        // Whatever was produced before the failure still goes out (e.g. earlier JSON Lines chunks).
        try { stdout.Flush(); } catch (IOException) { } catch (ObjectDisposedException) { }

        int code;
        string message;
        switch (e)
        {
            case UsageException u:
                code = ExitUsage;
                message = u.Message + (u.Command is null ? "" : $" (see 'ntr {u.Command} --help')");
                break;
            case NativeTransformerException:
                code = ExitError;
                message = e.Message;
                break;
            case IOException or UnauthorizedAccessException:
                code = ExitError;
                message = e.Message;
                break;
            default:
                code = ExitInternal;
                message = $"internal error: {e.GetType().FullName}: {e.Message}";
                break;
        }
        try
        {
            stderr.Write("ntr: error: " + InputParsing.OneLine(message) + "\n");
            if (code == ExitInternal && Environment.GetEnvironmentVariable("NTR_DEBUG") == "1")
                stderr.Write(e.ToString() + "\n");
        }
        catch (IOException) { }
        return code;
    }

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException { InnerExceptions.Count: 1 } a) { e = a.InnerExceptions[0]; continue; }
            if (e is TargetInvocationException { InnerException: { } inner }) { e = inner; continue; }
            if (e is TypeInitializationException { InnerException: { } ti }) { e = ti; continue; }
            return e;
        }
    }

    internal static string MainHelp()
    {
        var sb = new StringBuilder();
        sb.Append("ntr - NativeTransformer: run BERT-family encoders (BERT, DistilBERT, ALBERT) on the CPU\n\n");
        sb.Append("Usage: ntr <command> [options]\n       ntr <command> --help\n       ntr --version\n\nCommands:\n");
        foreach (var c in Commands) sb.Append("  ").Append(c.Name.PadRight(11)).Append(FirstLine(c.Summary)).Append('\n');
        sb.Append("\nModel folders are Hugging Face layouts (config.json, model.safetensors, vocab.txt, tokenizer files).\n");
        sb.Append("Without --model, commands use the model built into ntr (" + EmbeddedModel.Name + ", SST-2 sentiment):\n");
        sb.Append("  ntr classify \"a gorgeous, witty movie\"\n");
        sb.Append("Text input is one text per line (UTF-8) from --input FILE or stdin, or JSON Lines with --jsonl.\n");
        sb.Append("Exit codes: 0 ok, 1 error (model, input, I/O), 2 usage error, 70 internal error.\n");
        return sb.ToString();
    }

    private static string FirstLine(string s) { int i = s.IndexOf('\n'); return i < 0 ? s : s[..i]; }

}
