using System.Text;
using NativeTransformer.Cli;

namespace NativeTransformer.Tests.Cli;

public class InputReaderTests
{
    private static List<string> ReadAll(byte[] bytes)
    {
        using var r = new LineReader(new MemoryStream(bytes), "in.txt");
        var lines = new List<string>();
        while (r.TryReadLine(out var l)) lines.Add(l);
        return lines;
    }

    private static List<string> ReadAll(string text) => ReadAll(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("a", new[] { "a" })]
    [InlineData("a\n", new[] { "a" })]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a\r\nb\r\n", new[] { "a", "b" })]
    [InlineData("\n", new[] { "" })]
    [InlineData("a\n\nb\n", new[] { "a", "", "b" })]
    [InlineData("a\n\n", new[] { "a", "" })]
    [InlineData("x\ry\n", new[] { "x\ry" })]
    [InlineData("\uFEFFhead\n\uFEFFsecond\n", new[] { "head", "\uFEFFsecond" })]
    public void LineRules(string input, string[] expected) => Assert.Equal(expected, ReadAll(input));

    [Fact]
    public void NonAsciiAndLongLinesSurviveBufferBoundaries()
    {
        var sb = new StringBuilder();
        var expected = new List<string>();
        for (int i = 0; i < 3000; i++)
        {
            string line = new string('é', i % 97) + "日本語😀" + i;
            expected.Add(line);
            sb.Append(line).Append(i % 3 == 0 ? "\r\n" : "\n");
        }
        string longLine = new string('x', 300_000) + "ü";
        expected.Add(longLine);
        sb.Append(longLine);
        Assert.Equal(expected, ReadAll(sb.ToString()));
    }

    [Fact]
    public void InvalidUtf8NamesTheLine()
    {
        var bytes = Encoding.UTF8.GetBytes("fine\nalso fine\n").Concat(new byte[] { 0x61, 0xC3, 0x28, 0x0A }).Concat(Encoding.UTF8.GetBytes("after\n")).ToArray();
        using var r = new LineReader(new MemoryStream(bytes), "in.txt");
        Assert.True(r.TryReadLine(out _));
        Assert.True(r.TryReadLine(out _));
        string l;
        var e = Assert.Throws<InputException>(() => r.TryReadLine(out l!));
        Assert.Contains("in.txt: line 3", e.Message);
        Assert.Contains("UTF-8", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC0, 0x80 })]              // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]        // UTF-8-encoded surrogate
    [InlineData(new byte[] { 0xE2, 0x82 })]              // truncated sequence at end of input
    public void RejectsEveryKindOfInvalidUtf8(byte[] bad)
    {
        var e = Assert.Throws<InputException>(() => ReadAll(bad));
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void StdinStreamReaderIsReadAsBytes()
    {
        using var sr = new StreamReader(new MemoryStream(new byte[] { 0x6F, 0x6B, 0x0A, 0xFE, 0x0A }), new UTF8Encoding(false, true));
        using var r = LineReader.Open(null, sr);
        Assert.Equal("<stdin>", r.SourceName);
        Assert.True(r.TryReadLine(out var first));
        Assert.Equal("ok", first);
        string l;
        Assert.Contains("<stdin>: line 2", Assert.Throws<InputException>(() => r.TryReadLine(out l!)).Message);
    }

    [Fact]
    public void TextReaderStdinWorks()
    {
        using var r = LineReader.Open("-", new StringReader("a\r\n\nb\n"));
        var lines = new List<string>();
        while (r.TryReadLine(out var l)) lines.Add(l);
        Assert.Equal(["a", "", "b"], lines);
        Assert.Equal(3, r.LineNumber);
    }

    [Fact]
    public void MissingFileIsInputError()
    {
        var e = Assert.Throws<InputException>(() => LineReader.Open("/definitely/not/here.txt", TextReader.Null));
        Assert.Contains("file not found", e.Message);
    }

    [Fact]
    public void ChunkerKeepsOrderAndChunkSizes()
    {
        string text = string.Join("\n", Enumerable.Range(0, 150).Select(i => "t" + i)) + "\n";
        using var r = new LineReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), "in");
        var chunker = new InputChunker(r, jsonl: false);
        var chunk = new List<TextInput>();
        var sizes = new List<int>();
        var all = new List<string>();
        while (chunker.ReadChunk(chunk, 64)) { sizes.Add(chunk.Count); all.AddRange(chunk.Select(c => c.Text)); }
        Assert.Equal([64, 64, 22], sizes);
        Assert.Equal(Enumerable.Range(0, 150).Select(i => "t" + i), all);
    }

    [Fact]
    public void JsonlTextAndPair()
    {
        Assert.Equal(new TextInput("a", null), InputParsing.ParseJsonLine("{\"text\":\"a\"}", "f", 1));
        Assert.Equal(new TextInput("a", "b"), InputParsing.ParseJsonLine("{\"text\":\"a\",\"text_pair\":\"b\"}", "f", 1));
        Assert.Equal(new TextInput("a", null), InputParsing.ParseJsonLine("{\"text_pair\":null,\"text\":\"a\"}", "f", 1));
        Assert.Equal(new TextInput("é \"q\" 😀", ""), InputParsing.ParseJsonLine("{\"text\":\"\\u00e9 \\\"q\\\" 😀\",\"text_pair\":\"\"}", "f", 1));
    }

    [Theory]
    [InlineData("{\"text\": \"a\"", "invalid JSON")]
    [InlineData("not json", "invalid JSON")]
    [InlineData("[\"a\"]", "expected an object")]
    [InlineData("\"a\"", "expected an object")]
    [InlineData("{}", "missing \"text\"")]
    [InlineData("{\"text\": 5}", "\"text\" must be a string")]
    [InlineData("{\"text\": null}", "\"text\" must be a string")]
    [InlineData("{\"text\": \"a\", \"text_pair\": 1}", "\"text_pair\" must be a string")]
    [InlineData("{\"text\": \"a\", \"label\": 1}", "unexpected key \"label\"")]
    [InlineData("", "empty line")]
    [InlineData("   ", "empty line")]
    [InlineData("{\"text\": \"a\"} {}", "invalid JSON")]
    public void JsonlErrorsNameTheLine(string line, string expected)
    {
        var e = Assert.Throws<InputException>(() => InputParsing.ParseJsonLine(line, "in.jsonl", 7));
        Assert.StartsWith("in.jsonl: line 7: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void JsonlChunkerReportsTheRightLine()
    {
        var text = "{\"text\":\"a\"}\n{\"text\":\"b\",\"text_pair\":\"c\"}\n{\"text\": oops}\n";
        using var r = new LineReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), "in.jsonl");
        var chunker = new InputChunker(r, jsonl: true);
        var e = Assert.Throws<InputException>(() => chunker.ReadChunk(new List<TextInput>(), 64));
        Assert.Contains("in.jsonl: line 3", e.Message);
    }
}
