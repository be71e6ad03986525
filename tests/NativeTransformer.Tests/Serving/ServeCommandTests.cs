using NativeTransformer.Cli;
using NativeTransformer.Cli.Commands;

namespace NativeTransformer.Tests.Serving;

/// <summary>The <c>ntr serve</c> command line: repeatable --model, options mapped onto ServeOptions, usage errors.</summary>
public class ServeCommandTests
{
    [Fact]
    public void OptionsMapOntoServeOptions()
    {
        string[] args = ["--model", "a=" + TestServer.MlmDir, "--model=" + TestServer.SstDir, "--port", "0", "--max-batch", "8",
            "--max-wait-ms", "0", "--max-queue", "3", "--cache", "0", "--idle-unload", "60", "--threads", "1", "--max-connections", "100"];
        var (models, rest) = ServeCommand.ExtractModels(args);
        var o = ServeCommand.Options(ParsedArgs.Parse(ServeCommand.Spec, rest), models);
        Assert.Equal(TestServer.MlmDir, o.Models["a"]);
        Assert.Equal(TestServer.SstDir, o.Models["bert-tiny-sst2"]);   // DIR alone: named after the folder
        Assert.Equal((0, 8, 0, 3, 0, 1), (o.Port, o.MaxBatch, o.MaxWaitMs, o.MaxQueue, o.CacheEntries, o.LoadOptions.Threads));
        Assert.Equal(TimeSpan.FromSeconds(60), o.IdleUnload);
        Assert.Equal(100, o.MaxConnections);
    }

    [Theory]
    [InlineData("serve --model a=/nonexistent/folder", "model folder not found")]
    [InlineData("serve --model a=X --model a=Y", "given twice")]
    [InlineData("serve --model a=X --port 70000", "port number")]
    [InlineData("serve --model a=X --batch-size 4", "unknown option '--batch-size'")]
    [InlineData("serve --model a=X --host nowhere", "host 'nowhere' is not an IP address")]
    [InlineData("serve --model a/b=X", "model name 'a/b' may only use")]
    public void BadCommandLinesAreRefused(string line, string message)
    {
        var stderr = new StringWriter();
        int code = CliApp.Run(line.Split(' ').Select(w => w.Replace("X", TestServer.MlmDir).Replace("Y", TestServer.SstDir)).ToArray(),
            new StringReader(""), new StringWriter(), stderr);
        Assert.NotEqual(CliApp.ExitOk, code);
        Assert.Contains(message, stderr.ToString());
    }

    [Fact]
    public void WithoutModelItServesTheBuiltInModel()
    {
        var (models, rest) = ServeCommand.ExtractModels([]);
        var o = ServeCommand.Options(ParsedArgs.Parse(ServeCommand.Spec, rest), models);
        Assert.Equal(EmbeddedModel.Directory(), Assert.Single(o.Models, kv => kv.Key == EmbeddedModel.Name).Value);
    }

    [Fact]
    public void HelpListsTheEndpoints()
    {
        var stdout = new StringWriter();
        Assert.Equal(CliApp.ExitOk, CliApp.Run(["serve", "--help"], new StringReader(""), stdout, new StringWriter()));
        Assert.Contains("POST /v1/embeddings", stdout.ToString());
        Assert.Contains("--max-queue", stdout.ToString());
    }
}
