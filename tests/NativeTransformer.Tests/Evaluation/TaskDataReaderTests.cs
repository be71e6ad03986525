using System.Text;
using NativeTransformer.Evaluation;

namespace NativeTransformer.Tests.Evaluation;

public class TaskDataReaderTests
{
    private static List<TaskExample> Read(EvalTask task, string text) =>
        TaskDataReader.Read(task, StrictLines.Split(Encoding.UTF8.GetBytes(text), "dev.tsv"), "dev.tsv");

    /// <summary>The space GLUE puts before the tab is layout and is stripped (it would be a token for byte-level BPE).</summary>
    [Fact]
    public void ReadsSst2Rows()
    {
        var rows = Read(EvalTask.Sst2, "sentence\tlabel\r\nit 's a charming journey . \t1\r\nbleak \t0\n");
        Assert.Equal(2, rows.Count);
        Assert.Equal(new TaskExample("it 's a charming journey .", null, 1, 2), rows[0]);
        Assert.Equal(new TaskExample("bleak", null, 0, 3), rows[1]);
    }

    [Fact]
    public void ReadsMrpcWithBomAndQuotesAsPairs()
    {
        var rows = Read(EvalTask.Mrpc, "\uFEFF" + TaskDataReader.MrpcHeader + "\n1\t11\t12\tHe said \"no.\tShe said \"yes\"\n0\t3\t4\ta\tb\n");
        Assert.Equal(2, rows.Count);
        Assert.Equal(new TaskExample("He said \"no.", "She said \"yes\"", 1, 2), rows[0]);
        Assert.Equal(new TextInput("a", "b"), rows[1].Input);
        Assert.Equal(0, rows[1].Label);
    }

    [Fact]
    public void ReadsStsbIgnoringExtraColumns()
    {
        var rows = Read(EvalTask.Stsb,
            "main-captions\tMSRvid\t2012test\t0000\t5.000\tA man.\tA \"man\".\n" +
            "main-news\theadlines\t2015\t0001\t0.25\tx\ty\tsource-a\tsource-b\n");
        Assert.Equal(new TaskExample("A man.", "A \"man\".", 5.0, 1), rows[0]);
        Assert.Equal(new TaskExample("x", "y", 0.25, 2), rows[1]);
    }

    [Theory]
    [InlineData(EvalTask.Sst2, "", "empty file")]
    [InlineData(EvalTask.Sst2, "sentence\tlabel\n", "no examples")]
    [InlineData(EvalTask.Sst2, "label\tsentence\na\t1\n", "line 1")]
    [InlineData(EvalTask.Sst2, "sentence\tlabel\na\t1\nb\n", "line 3: expected 2 tab-separated fields")]
    [InlineData(EvalTask.Sst2, "sentence\tlabel\na\t1\tx\n", "line 2: expected 2 tab-separated fields")]
    [InlineData(EvalTask.Sst2, "sentence\tlabel\na\t2\n", "line 2: label must be 0 or 1")]
    [InlineData(EvalTask.Sst2, "sentence\tlabel\na\t\n", "line 2: label must be 0 or 1")]
    [InlineData(EvalTask.Sst2, "sentence\tlabel\na\t1\n\n", "line 3")]
    [InlineData(EvalTask.Mrpc, "", "empty file")]
    [InlineData(EvalTask.Mrpc, "Quality\tA\tB\n", "line 1: expected the MRPC header")]
    [InlineData(EvalTask.Mrpc, TaskDataReader.MrpcHeader + "\n", "no examples")]
    [InlineData(EvalTask.Mrpc, TaskDataReader.MrpcHeader + "\n1\t1\t2\ta\tb\n1\t1\t2\ta\n", "line 3: expected 5 tab-separated fields")]
    [InlineData(EvalTask.Mrpc, TaskDataReader.MrpcHeader + "\n1\t1\t2\ta\tb\tc\n", "line 2: expected 5 tab-separated fields")]
    [InlineData(EvalTask.Mrpc, TaskDataReader.MrpcHeader + "\nyes\t1\t2\ta\tb\n", "line 2: label must be 0 or 1")]
    [InlineData(EvalTask.Stsb, "", "empty file")]
    [InlineData(EvalTask.Stsb, "g\tf\ty\t1\t3.0\ta\tb\ng\tf\ty\t1\t3.0\ta\n", "line 2: expected at least 7 tab-separated fields")]
    [InlineData(EvalTask.Stsb, "g\tf\ty\t1\tfive\ta\tb\n", "line 1: the score (field 5) must be a number from 0 to 5")]
    [InlineData(EvalTask.Stsb, "g\tf\ty\t1\t5.5\ta\tb\n", "line 1: the score")]
    [InlineData(EvalTask.Stsb, "g\tf\ty\t1\tNaN\ta\tb\n", "line 1: the score")]
    public void MalformedFilesNameTheLine(EvalTask task, string text, string expected)
    {
        var e = Assert.Throws<InputException>(() => Read(task, text));
        Assert.Contains("dev.tsv", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void InvalidUtf8NamesTheLine()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes("sentence\tlabel\nok\t1\n"), 0xC3, 0x28, (byte)'\t', (byte)'1', (byte)'\n'];
        var e = Assert.Throws<InputException>(() => StrictLines.Split(bytes, "dev.tsv"));
        Assert.Contains("dev.tsv: line 3: not valid UTF-8", e.Message);
    }

    [Fact]
    public void MissingFileIsAnInputError() =>
        Assert.Contains("file not found", Assert.Throws<InputException>(() => TaskDataReader.ReadFile(EvalTask.Sst2, "/nonexistent/dev.tsv")).Message);

    [Theory]
    [InlineData(EvalTask.Sst2, "sst2/dev.tsv", 872)]
    [InlineData(EvalTask.Mrpc, "mrpc/dev.tsv", 408)]
    [InlineData(EvalTask.Stsb, "stsbenchmark/sts-dev.csv", 1500)]
    public void ReadsTheSharedDevSets(EvalTask task, string file, int count)
    {
        string path = TestPaths.Data(file.Split('/'));
        if (!File.Exists(path)) return; // ../shared not present
        var rows = TaskDataReader.ReadFile(task, path);
        Assert.Equal(count, rows.Count);
        if (task == EvalTask.Mrpc) Assert.Equal(279, rows.Count(r => r.Label == 1)); // SOURCE.txt: 279 x 1 / 129 x 0
        if (task == EvalTask.Stsb) Assert.All(rows, r => Assert.InRange(r.Label, 0, 5));
        Assert.All(rows, r => Assert.Equal(task != EvalTask.Sst2, r.TextPair is not null));
    }
}
