using System.Text;
using NativeTransformer.Cli;
using NativeTransformer.Cli.Commands;

namespace NativeTransformer.Tests.Cli;

public class Sst2ReaderTests
{
    private static List<LabeledExample> Read(string text)
    {
        using var r = new LineReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), "dev.tsv");
        return Sst2Reader.Read(r);
    }

    [Fact]
    public void ReadsRows()
    {
        var rows = Read("sentence\tlabel\r\nit 's a charming journey . \t1\r\nbleak \t0\n");
        Assert.Equal(2, rows.Count);
        Assert.Equal(new LabeledExample("it 's a charming journey . ", 1, 2), rows[0]);
        Assert.Equal(new LabeledExample("bleak ", 0, 3), rows[1]);
    }

    [Fact]
    public void ReadsTheSharedDevSet()
    {
        string path = TestPaths.Data("sst2", "dev.tsv");
        if (!File.Exists(path)) return; // ../shared not present
        using var r = LineReader.Open(path, TextReader.Null);
        var rows = Sst2Reader.Read(r);
        Assert.Equal(872, rows.Count);
        Assert.All(rows, x => Assert.InRange(x.Label, 0, 1));
    }

    [Theory]
    [InlineData("", "empty file")]
    [InlineData("sentence\tlabel\n", "no examples")]
    [InlineData("label\tsentence\na\t1\n", "line 1")]
    [InlineData("sentence\tlabel\na\t1\nb\n", "line 3: expected 2 tab-separated fields")]
    [InlineData("sentence\tlabel\na\t1\tx\n", "line 2: expected 2 tab-separated fields")]
    [InlineData("sentence\tlabel\na\t2\n", "line 2: label must be 0 or 1")]
    [InlineData("sentence\tlabel\na\t\n", "line 2: label must be 0 or 1")]
    [InlineData("sentence\tlabel\na\t1\n\n", "line 3")]
    public void MalformedFilesNameTheLine(string text, string expected)
    {
        var e = Assert.Throws<InputException>(() => Read(text));
        Assert.Contains("dev.tsv", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(706, 872, 80.96)]
    [InlineData(708, 872, 81.19)]
    [InlineData(872, 872, 100.0)]
    [InlineData(0, 872, 0.0)]
    [InlineData(1, 3, 33.33)]
    [InlineData(2, 3, 66.67)]
    public void AccuracyIsAPercentageWithTwoDecimals(int correct, int n, double expected) =>
        Assert.Equal(expected, EvalCommand.AccuracyPercent(correct, n));

    [Fact]
    public void ResultIsOneJsonObject()
    {
        var sw = new StringWriter();
        EvalCommand.WriteResult(sw, "sst2", 872, 706);
        Assert.Equal("{\"task\":\"sst2\",\"n\":872,\"accuracy\":80.96}\n", sw.ToString());
    }
}
