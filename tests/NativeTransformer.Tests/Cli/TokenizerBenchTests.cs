using System.Text.Json;

namespace NativeTransformer.Tests.Cli;

/// <summary><c>ntr bench --tokenizer</c>: argument errors and the JSON shape (the speed itself is measured in bench/, not here).</summary>
public class TokenizerBenchTests
{
    private static readonly string Model = TestPaths.Model("bert-mini-sst2");

    [Fact]
    public void JsonHasTheRatesAndOneThread()
    {
        using var dir = new TempDir();
        string input = dir.Write("lines.txt", "a gorgeous, witty movie\nHello WORLD!\n\ncafé 日本\n");
        var r = CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", input, "--json", "--warmup", "0", "--iterations", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Single(r.StdoutLines);
        using var doc = JsonDocument.Parse(r.Stdout);
        var o = doc.RootElement;
        Assert.True(o.GetProperty("sentences_per_s").GetDouble() > 0);
        Assert.True(o.GetProperty("tokens_per_s").GetDouble() > o.GetProperty("sentences_per_s").GetDouble());
        Assert.Equal(1, o.GetProperty("threads").GetInt32());
        Assert.Equal(4, o.GetProperty("sentences").GetInt32()); // the empty line is a sentence too
        Assert.Equal(2, o.GetProperty("passes").GetInt32());
        Assert.Equal("WordPiece", o.GetProperty("tokenizer").GetString());
        // tokens per pass = what Encode gives, [CLS]/[SEP] included
        var tok = NativeTransformer.Tokenization.TokenizerLoader.FromDirectory(Model);
        int expected = new[] { "a gorgeous, witty movie", "Hello WORLD!", "", "café 日本" }.Sum(s => tok.Encode(s).Length);
        Assert.Equal(expected, o.GetProperty("tokens_per_pass").GetInt32());
    }

    [Fact]
    public void GlueTsvReadsOnlyTheSentenceColumn()
    {
        using var dir = new TempDir();
        string input = dir.Write("train.tsv", "sentence\tlabel\nhide new secretions \t0\nwitty \t1\n");
        var r = CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", input, "--json", "--iterations", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(2, doc.RootElement.GetProperty("sentences").GetInt32());
        var tok = NativeTransformer.Tokenization.TokenizerLoader.FromDirectory(Model);
        Assert.Equal(tok.Encode("hide new secretions ").Length + tok.Encode("witty ").Length,
            doc.RootElement.GetProperty("tokens_per_pass").GetInt32());
        Assert.Contains("sentence", doc.RootElement.GetProperty("column").GetString());
    }

    [Fact]
    public void TextOutputNamesTheThroughput()
    {
        using var dir = new TempDir();
        string input = dir.Write("lines.txt", "one line\n");
        var r = CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", input, "--iterations", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("sentences/s", r.Stdout);
        Assert.Contains("threads:     1", r.Stdout);
    }

    [Fact]
    public void MissingInputIsAUsageError() =>
        CliRunner.Run("bench", "--tokenizer", "--model", Model).AssertOneLineError(2, "--input");

    [Fact]
    public void StdinIsRefused() =>
        CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", "-").AssertOneLineError(2, "stdin");

    [Fact]
    public void InputWithoutTokenizerIsAUsageError() =>
        CliRunner.Run("bench", "--model", Model, "--input", "x.txt").AssertOneLineError(2, "--tokenizer");

    [Theory]
    [InlineData("--threads", "2")]
    [InlineData("--batch", "4")]
    [InlineData("--seq", "64")]
    public void EncoderOptionsAreRefused(string option, string value)
    {
        using var dir = new TempDir();
        string input = dir.Write("lines.txt", "x\n");
        CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", input, option, value).AssertOneLineError(2, option);
    }

    [Fact]
    public void MissingFileIsAnInputError() =>
        CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", "/nonexistent/none.txt").AssertOneLineError(1, "not found");

    [Fact]
    public void EmptyFileIsAnInputError()
    {
        using var dir = new TempDir();
        CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", dir.Write("empty.txt", "")).AssertOneLineError(1, "no sentences");
    }

    [Fact]
    public void NonUtf8FileIsAnInputError()
    {
        using var dir = new TempDir();
        string input = dir.WriteBytes("bad.txt", [0x61, 0xFF, 0xFE, 0x0A]);
        CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", input).AssertOneLineError(1, "UTF-8");
    }

    [Fact]
    public void BadIterationsIsAUsageError()
    {
        using var dir = new TempDir();
        string input = dir.Write("lines.txt", "x\n");
        CliRunner.Run("bench", "--tokenizer", "--model", Model, "--input", input, "--iterations", "0").AssertOneLineError(2, "--iterations");
    }
}
