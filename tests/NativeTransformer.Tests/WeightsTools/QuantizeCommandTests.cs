using NativeTransformer.Weights;

namespace NativeTransformer.Tests.WeightsTools;

public sealed class QuantizeCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nt-quantize-cli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private string Out(string name) => Path.Combine(_root, name);

    [Fact]
    public void BertMiniInt8FolderIsAtMostThreeTenthsOfFp32AndClassifies()
    {
        string src = TestPaths.Model("bert-mini-sst2"), dst = Out("int8");
        var run = MakeRandomRun.Run("quantize", src, "--output", dst, "--int8");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("embeddings int8", run.Stdout);
        long fp32 = new FileInfo(Path.Combine(src, "model.safetensors")).Length, int8 = new FileInfo(Path.Combine(dst, "model.safetensors")).Length;
        Assert.True(int8 <= 0.3 * fp32, $"int8 folder {int8} bytes vs fp32 {fp32}");
        using var model = TransformerModel.Load(dst, new LoadOptions { Threads = 1 });
        Assert.StartsWith("int8", model.KernelDescription);
        Assert.Equal("positive", model.Classify(["a gorgeous, witty, seductive movie."])[0].Label);

        var inspect = Cli.CliRunner.Run("inspect", "--model", dst);
        Assert.Contains("int8-symmetric-per-channel/v1 (embeddings int8)", inspect.Stdout);
        Assert.DoesNotContain("heads per layer", inspect.Stdout);
    }

    [Fact]
    public void InspectShowsHeadsPerLayerOfAPrunedFolder()
    {
        string dst = Out("pruned");
        var run = MakeRandomRun.Run("prune", TestPaths.Model("bert-mini-sst2"), "--output", dst, "--heads", "0.5");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var inspect = Cli.CliRunner.Run("inspect", "--model", dst, "--json");
        Assert.Contains("\"heads_per_layer\":[2,2,2,2]", inspect.Stdout);
        Assert.DoesNotContain("quantization", inspect.Stdout);
    }

    [Theory]
    [InlineData(new[] { "quantize" }, "DIR is required")]
    [InlineData(new[] { "quantize", "M" }, "--output is required")]
    [InlineData(new[] { "quantize", "M", "--output", "O", "--int8", "--fp16" }, "one of --int8 and --fp16")]
    [InlineData(new[] { "quantize", "M", "--output", "O", "--embeddings", "int4" }, "unknown embeddings precision 'int4'")]
    [InlineData(new[] { "quantize", "M", "--output", "O", "--bits", "4" }, "unknown argument '--bits'")]
    [InlineData(new[] { "quantize", "M", "--output" }, "--output needs a value")]
    [InlineData(new[] { "quantize", "M", "N", "--output", "O" }, "unexpected argument 'N'")]
    public void UsageErrorsExitTwo(string[] args, string message)
    {
        var run = MakeRandomRun.Run(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.Contains("usage: weights-tools quantize", run.Stderr);
    }

    [Fact]
    public void BadFoldersExitOne()
    {
        var missing = MakeRandomRun.Run("quantize", Out("nope"), "--output", Out("x"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr);

        Directory.CreateDirectory(Out("busy"));
        File.WriteAllText(Path.Combine(Out("busy"), "f"), "");
        var busy = MakeRandomRun.Run("quantize", TestPaths.Model("bert-tiny-sst2"), "--output", Out("busy"));
        Assert.Equal(1, busy.ExitCode);
        Assert.Contains("not empty", busy.Stderr);

        var first = MakeRandomRun.Run("quantize", TestPaths.Model("bert-tiny-sst2"), "--output", Out("q1"), "--embeddings", "fp16");
        Assert.True(first.ExitCode == 0, first.Stderr);
        using (var file = SafetensorsFile.Open(Path.Combine(Out("q1"), "model.safetensors")))
            Assert.Equal(DType.F16, file.GetInfo("bert.embeddings.word_embeddings.weight").DType);
        var again = MakeRandomRun.Run("quantize", Out("q1"), "--output", Out("q2"));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already I8", again.Stderr);
        Assert.False(Directory.Exists(Out("q2")) && Directory.EnumerateFileSystemEntries(Out("q2")).Any());
    }

    [Fact]
    public void HelpListsQuantize()
    {
        var run = MakeRandomRun.Run("--help");
        Assert.Contains("quantize DIR --output DIR2 [--int8 | --fp16] [--embeddings int8|fp16|fp32]", run.Stdout);
    }

    [Theory]
    [InlineData("quantize")]
    [InlineData("prune")]
    [InlineData("sweep")]
    [InlineData("autocompress")]
    public void EveryCommandAcceptsHelp(string command)
    {
        var run = MakeRandomRun.Run(command, "--help");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains(command + " ", run.Stdout);
    }
}
