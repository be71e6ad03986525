using System.Text.Json;
using NativeTransformer.Tests.Tasks;

namespace NativeTransformer.Tests.Cli;

/// <summary><c>--overflow truncate|error|window</c> and <c>--stride</c> on embed, classify and ner.</summary>
public class OverflowCliTests
{
    private static readonly string Sst2 = TestPaths.Model("bert-mini-sst2");
    private static readonly string Ner = TestPaths.Model("bert-mini-ner");

    private static JsonElement[] Lines(CliResult r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
    }

    [Theory]
    [InlineData("embed")]
    [InlineData("classify")]
    [InlineData("ner")]
    public void ErrorModeRefusesTheLongLineNamingItAndTheWayOut(string command)
    {
        string model = command == "ner" ? Ner : Sst2;
        var r = CliRunner.RunWithStdin("short text\n" + LongDocumentTests.LongText() + "\n", command, "--model", model, "--max-length", "128", "--overflow", "error");
        r.AssertOneLineError(1, "line 2: the input has 5002 tokens, more than this model's max length of 128");
        Assert.Contains("--overflow window", r.Stderr);
        Assert.Single(r.StdoutLines); // the line that fits was still written
    }

    [Fact]
    public void TruncateIsTheDefaultAndSaysSoOnlyOnLongLines()
    {
        string input = "short text\n" + LongDocumentTests.LongText() + "\n";
        foreach (var command in new[] { "embed", "classify" })
        {
            var lines = Lines(CliRunner.RunWithStdin(input, command, "--model", Sst2, "--max-length", "128"));
            Assert.False(lines[0].TryGetProperty("truncated", out _));
            Assert.True(lines[1].GetProperty("truncated").GetBoolean());
            Assert.False(lines[1].TryGetProperty("windows", out _));
        }
        var ner = Lines(CliRunner.RunWithStdin(input, "ner", "--model", Ner, "--max-length", "128"));
        Assert.Equal([false, true], ner.Select(l => l.GetProperty("truncated").GetBoolean()));
    }

    [Fact]
    public void WindowModeWritesTheLibrarysCombinedResult()
    {
        string text = LongDocumentTests.LongText(40);
        var options = new LoadOptions { MaxLength = 128, Overflow = OverflowMode.Window, OverflowStride = 16 };
        using var model = TransformerModel.Load(Sst2, options);
        var expected = model.Classify([text])[0];
        var embedding = model.EmbedResults([text])[0];
        Assert.True(expected.Windows > 1);

        var c = Lines(CliRunner.Run("classify", "--model", Sst2, "--max-length", "128", "--overflow", "window", "--stride", "16", text))[0];
        Assert.Equal(expected.Windows, c.GetProperty("windows").GetInt32());
        Assert.False(c.TryGetProperty("truncated", out _));
        Assert.Equal(expected.Logits, c.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()));

        var e = Lines(CliRunner.Run("embed", "--model", Sst2, "--max-length", "128", "--overflow", "window", "--stride", "16", text))[0];
        Assert.Equal(embedding.Windows, e.GetProperty("windows").GetInt32());
        Assert.Equal(embedding.Vector, e.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public void NerWindowModeTagsPastTheFirstWindow()
    {
        string text = string.Concat(Enumerable.Repeat("The weather was mild and the meeting lasted most of the afternoon . ", 40)) + "Angela Merkel met Barack Obama in Berlin .";
        var line = Lines(CliRunner.Run("ner", "--model", Ner, "--max-length", "128", "--overflow", "window", text))[0];
        Assert.True(line.GetProperty("windows").GetInt32() > 1);
        Assert.False(line.GetProperty("truncated").GetBoolean());
        int at = text.LastIndexOf("Berlin", StringComparison.Ordinal);
        Assert.Contains(line.GetProperty("entities").EnumerateArray(), x => x.GetProperty("start").GetInt32() == at && x.GetProperty("word").GetString() == "Berlin");
    }

    [Theory]
    [InlineData("--overflow", "chunk", "must be one of truncate, error, window")]
    [InlineData("--stride", "8", "'--stride' needs '--overflow window'")]
    public void BadOptionsAreUsageErrors(string option, string value, string message)
    {
        var r = CliRunner.Run("classify", "--model", Sst2, option, value, "text");
        r.AssertOneLineError(2, message);
    }
}
