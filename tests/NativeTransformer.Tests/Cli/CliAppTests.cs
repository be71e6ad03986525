using NativeTransformer.Cli;

namespace NativeTransformer.Tests.Cli;

/// <summary>Usage, help and error paths of CliApp.Run that never reach the library.</summary>
public class CliAppTests
{
    private static string Missing => Path.Combine(Path.GetTempPath(), "ntr-no-such-model-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void HelpGoesToStdoutWithExitZero()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        foreach (var cmd in new[] { "tokenize", "embed", "classify", "fill-mask", "encode", "eval", "inspect" })
            Assert.Contains(cmd, r.Stdout);
    }

    [Theory]
    [InlineData("tokenize")]
    [InlineData("embed")]
    [InlineData("classify")]
    [InlineData("fill-mask")]
    [InlineData("encode")]
    [InlineData("eval")]
    [InlineData("inspect")]
    public void CommandHelp(string command)
    {
        var r = CliRunner.Run(command, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith($"Usage: ntr {command}", r.Stdout);
        Assert.Contains("--model DIR", r.Stdout);
        Assert.Equal("", r.Stderr);
        Assert.Equal(r.Stdout, CliRunner.Run("help", command).Stdout);
    }

    [Fact]
    public void EvalHelpSaysAccuracyIsAPercentage()
    {
        var r = CliRunner.Run("eval", "--help");
        Assert.Contains("PERCENTAGE", r.Stdout);
    }

    [Fact]
    public void Version()
    {
        var r = CliRunner.Run("--version");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("ntr " + CliApp.Version + " (", r.Stdout);
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", CliApp.Version);   // from the assembly, "+commit" stripped
    }

    [Fact]
    public void NoArgumentsIsUsageError() => CliRunner.Run().AssertOneLineError(2, "no command");

    [Fact]
    public void UnknownCommandIsUsageError() => CliRunner.Run("frobnicate").AssertOneLineError(2, "'frobnicate'");

    [Fact]
    public void UnknownTopLevelOptionIsUsageError() => CliRunner.Run("--frob").AssertOneLineError(2, "'--frob'");

    [Fact]
    public void WithoutModelTheBuiltInModelIsUsed()
    {
        // No --model is not an error: every model command falls back to the model built into ntr.
        var r = CliRunner.RunWithStdin("hello\n", "tokenize");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("\"tokens\":[\"[CLS]\",\"hello\",\"[SEP]\"]", r.Stdout);
    }

    [Fact]
    public void EncodeAndEvalMissingRequiredOptions()
    {
        CliRunner.Run("encode", "--model", "m", "--output", "o.safetensors").AssertOneLineError(2, "--input");
        CliRunner.Run("encode", "--model", "m", "--input", "i.json").AssertOneLineError(2, "--output");
        CliRunner.Run("eval", "--model", "m", "--data", "d.tsv").AssertOneLineError(2, "--task");
        CliRunner.Run("eval", "--model", "m", "--task", "sst2").AssertOneLineError(2, "--data");
    }

    [Theory]
    [InlineData("classify", "--model", "m", "--bogus")]
    [InlineData("embed", "--model", "m", "--top-k", "3")]
    [InlineData("tokenize", "--model", "m", "--threads", "2")]
    [InlineData("inspect", "--model", "m", "--input", "x")]
    public void UnknownOptionIsUsageErrorNamingIt(params string[] args) =>
        CliRunner.Run(args).AssertOneLineError(2, $"'{args[3]}'");

    [Theory]
    [InlineData("classify", "--threads", "0")]
    [InlineData("classify", "--batch-size", "-4")]
    [InlineData("embed", "--max-length", "abc")]
    [InlineData("fill-mask", "--top-k", "many")]
    [InlineData("tokenize", "--max-length", "1e3")]
    [InlineData("eval", "--batch-size", "0")]
    public void BadNumberIsUsageError(string command, string option, string value)
    {
        string[] args = command == "eval"
            ? [command, "--model", Missing, "--task", "sst2", "--data", "x.tsv", option, value]
            : [command, "--model", Missing, option, value];
        CliRunner.Run(args).AssertOneLineError(2, option);
    }

    [Fact]
    public void BadPoolingIsUsageError() =>
        CliRunner.Run("embed", "--model", Missing, "--pooling", "median").AssertOneLineError(2, "--pooling");

    [Fact]
    public void NormalizeFlagsExcludeEachOther() =>
        CliRunner.Run("embed", "--model", Missing, "--normalize", "--no-normalize").AssertOneLineError(2, "--no-normalize");

    [Fact]
    public void FillMaskTextAndInputExcludeEachOther() =>
        CliRunner.Run("fill-mask", "--model", Missing, "--input", "f.txt", "a [MASK] b").AssertOneLineError(2, "not both");

    [Fact]
    public void UnknownTaskListsSupportedTasks() =>
        CliRunner.Run("eval", "--model", Missing, "--task", "mnli", "--data", "x.tsv").AssertOneLineError(2, "supported tasks: sst2");

    [Theory]
    [InlineData("tokenize")]
    [InlineData("embed")]
    [InlineData("classify")]
    [InlineData("fill-mask")]
    [InlineData("inspect")]
    public void MissingModelFolderIsRuntimeError(string command)
    {
        string dir = Missing;
        CliRunner.Run(command, "--model", dir).AssertOneLineError(1, "model folder not found");
    }

    [Fact]
    public void ModelPathThatIsAFileIsRuntimeError()
    {
        using var tmp = new TempDir();
        string f = tmp.Write("config.json", "{}");
        CliRunner.Run("classify", "--model", f).AssertOneLineError(1, "is a file");
    }

    [Fact]
    public void MissingInputFileIsRuntimeErrorBeforeTheModelLoads()
    {
        using var tmp = new TempDir();
        CliRunner.Run("classify", "--model", tmp.Path, "--input", tmp.File("nope.txt")).AssertOneLineError(1, "nope.txt: file not found");
        CliRunner.Run("tokenize", "--model", tmp.Path, "--input", tmp.Path).AssertOneLineError(1, "is a directory");
    }

    [Fact]
    public void EncodeInputErrorsAreReportedBeforeTheModelLoads()
    {
        using var tmp = new TempDir();
        string bad = tmp.Write("in.json", "[{\"text\": \"ok\"}, {\"txt\": \"typo\"}]");
        CliRunner.Run("encode", "--model", tmp.Path, "--input", bad, "--output", tmp.File("o.safetensors"))
            .AssertOneLineError(1, "item 1");
        CliRunner.Run("encode", "--model", tmp.Path, "--input", tmp.File("missing.json"), "--output", tmp.File("o.safetensors"))
            .AssertOneLineError(1, "file not found");
        string good = tmp.Write("good.json", "[{\"text\": \"ok\"}]");
        CliRunner.Run("encode", "--model", tmp.Path, "--input", good, "--output", Path.Combine(tmp.Path, "no", "such", "o.safetensors"))
            .AssertOneLineError(1, "does not exist");
    }

    [Fact]
    public void EncodeReadsItsInputFromStdin()
    {
        using var tmp = new TempDir();
        CliRunner.RunWithStdin("{\"text\": 1}", "encode", "--model", tmp.Path, "--input", "-", "--output", tmp.File("o.safetensors"))
            .AssertOneLineError(1, "<stdin>");
    }

    [Fact]
    public void EvalDataErrorsAreReportedBeforeTheModelLoads()
    {
        using var tmp = new TempDir();
        string data = tmp.Write("dev.tsv", "sentence\tlabel\ngood movie\t1\nbad movie\n");
        CliRunner.Run("eval", "--model", tmp.Path, "--task", "sst2", "--data", data).AssertOneLineError(1, "line 3");
        string badLabel = tmp.Write("dev2.tsv", "sentence\tlabel\ngood movie\tpositive\n");
        CliRunner.Run("eval", "--model", tmp.Path, "--task", "sst2", "--data", badLabel).AssertOneLineError(1, "line 2");
        string badHeader = tmp.Write("dev3.tsv", "text\tlabel\ngood movie\t1\n");
        CliRunner.Run("eval", "--model", tmp.Path, "--task", "sst2", "--data", badHeader).AssertOneLineError(1, "line 1");
        CliRunner.Run("eval", "--model", tmp.Path, "--task", "sst2", "--data", tmp.File("none.tsv")).AssertOneLineError(1, "file not found");
    }

    [Fact]
    public void InternalErrorsAreOneLineWithExit70()
    {
        // A folder that exists makes the command reach the library; whatever the library throws that is not
        // a NativeTransformerException must still be one line (exit 70), and a NativeTransformerException exit 1.
        using var tmp = new TempDir();
        var r = CliRunner.RunWithStdin("hello\n", "classify", "--model", tmp.Path);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.StartsWith("ntr: error: ", r.Stderr);
        if (Environment.GetEnvironmentVariable("NTR_DEBUG") != "1") Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Contains(r.ExitCode, new[] { 1, 70 });
    }
}
