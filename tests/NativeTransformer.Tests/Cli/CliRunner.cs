using System.Text;
using NativeTransformer.Cli;

namespace NativeTransformer.Tests.Cli;

/// <summary>Runs <see cref="CliApp.Run(string[], TextReader, TextWriter, TextWriter)"/> in-process and captures its output.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The error contract: non-zero exit, exactly one "ntr: error: ..." line on stderr, no stack frames.</summary>
    public void AssertOneLineError(int expectedCode, string? mustContain = null)
    {
        Assert.True(ExitCode == expectedCode, $"exit code {ExitCode}, expected {expectedCode}; stderr: {Stderr}");
        Assert.Single(StderrLines);
        Assert.StartsWith("ntr: error: ", Stderr);
        Assert.EndsWith("\n", Stderr);
        Assert.DoesNotContain("   at ", Stderr);
        Assert.DoesNotContain("internal error", Stderr);
        if (mustContain is not null) Assert.Contains(mustContain, Stderr);
    }
}

internal static class CliRunner
{
    public static CliResult Run(params string[] args) => RunWithStdin("", args);

    public static CliResult RunWithStdin(string stdin, params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run(args, new StringReader(stdin), stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>stdin as raw bytes behind a StreamReader, the way Program.cs hands it over.</summary>
    public static CliResult RunWithStdinBytes(byte[] stdin, params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        using var reader = new StreamReader(new MemoryStream(stdin), new UTF8Encoding(false, true));
        int code = CliApp.Run(args, reader, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>A temporary folder removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ntr-cli-tests-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public string Write(string name, string content)
    {
        var p = File(name);
        System.IO.File.WriteAllText(p, content, new UTF8Encoding(false));
        return p;
    }
    public string WriteBytes(string name, byte[] content)
    {
        var p = File(name);
        System.IO.File.WriteAllBytes(p, content);
        return p;
    }
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
