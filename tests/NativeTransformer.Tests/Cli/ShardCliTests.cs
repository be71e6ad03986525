namespace NativeTransformer.Tests.Cli;

/// <summary>ntr embed --shard I/N: the N part outputs concatenated in part order are byte for byte one unsharded run
/// (the reference is the unsharded command, which other tests check against PyTorch).</summary>
public class ShardCliTests
{
    private static readonly string Model = TestPaths.Model("bert-tiny-sst2");

    public static TheoryData<string, int> Inputs()
    {
        var data = new TheoryData<string, int>();
        string[] inputs =
        [
            "",                                   // empty input: every part writes nothing
            "one line only\n",                    // fewer lines than parts
            "first\nsecond",                      // no final newline
            "a\nb b\nc c c\nd\ne e\nf f f f\ng\n", // uneven split, different lengths (different padding per batch)
            "x\n\ny\n",                           // a blank line is a record like any other
        ];
        foreach (var input in inputs)
            foreach (int n in new[] { 1, 2, 3 }) data.Add(input, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void ConcatenatedPartsEqualTheUnshardedRun(string input, int parts)
    {
        using var dir = new TempDir();
        string file = dir.Write("in.txt", input);
        var whole = CliRunner.Run("embed", "--model", Model, "--input", file, "--threads", "1");
        Assert.True(whole.ExitCode == 0, whole.Stderr);

        var merged = new System.Text.StringBuilder();
        for (int i = 0; i < parts; i++)
        {
            var part = CliRunner.Run("embed", "--model", Model, "--input", file, "--threads", "1", "--shard", $"{i}/{parts}");
            Assert.True(part.ExitCode == 0, part.Stderr);
            merged.Append(part.Stdout);
        }
        Assert.Equal(whole.Stdout, merged.ToString());
    }

    [Fact]
    public void PartsAreContiguousBlocksOfFloorRN()
    {
        using var dir = new TempDir();
        string file = dir.Write("in.txt", "l0\nl1\nl2\nl3\nl4\n");
        // 5 lines in 3 parts: [0,1) [1,3) [3,5) by floor(i*count/N).
        string[][] expected = [["l0"], ["l1", "l2"], ["l3", "l4"]];
        for (int i = 0; i < 3; i++)
        {
            var r = CliRunner.Run("embed", "--model", Model, "--input", file, "--shard", $"{i}/3", "--threads", "1");
            Assert.True(r.ExitCode == 0, r.Stderr);
            var texts = r.StdoutLines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()).ToArray();
            Assert.Equal(expected[i], texts);
        }
    }

    [Fact]
    public void ABadLineInAnotherPartDoesNotStopThisPart()
    {
        using var dir = new TempDir();
        string file = dir.WriteBytes("in.txt", [(byte)'o', (byte)'k', (byte)'\n', 0xFF, 0xFE, (byte)'\n', (byte)'f', (byte)'i', (byte)'n', (byte)'e', (byte)'\n', (byte)'z', (byte)'\n']);
        var last = CliRunner.Run("embed", "--model", Model, "--input", file, "--shard", "1/2", "--threads", "1");
        Assert.True(last.ExitCode == 0, last.Stderr);
        Assert.Equal(2, last.StdoutLines.Length);
        var first = CliRunner.Run("embed", "--model", Model, "--input", file, "--shard", "0/2", "--threads", "1");
        Assert.NotEqual(0, first.ExitCode);
        Assert.Contains("line 2", first.Stderr);
    }

    [Theory]
    [InlineData("3/3", "I must be below N")]
    [InlineData("0/0", "N must be at least 1")]
    [InlineData("-1/2", "needs I/N")]
    [InlineData("1", "needs I/N")]
    [InlineData("a/2", "needs I/N")]
    [InlineData("1/", "needs I/N")]
    public void BadShardValuesAreUsageErrors(string value, string message)
    {
        using var dir = new TempDir();
        string file = dir.Write("in.txt", "a\n");
        CliRunner.Run("embed", "--model", Model, "--input", file, "--shard=" + value).AssertOneLineError(2, message);
    }

    [Fact]
    public void ShardNeedsAnInputFile()
    {
        CliRunner.RunWithStdin("a\n", "embed", "--model", Model, "--shard", "0/2").AssertOneLineError(2, "needs --input FILE");
        CliRunner.Run("embed", "--model", Model, "--shard", "0/2", "some text").AssertOneLineError(2, "needs --input FILE");
    }
}
