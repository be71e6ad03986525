using System.Text.Json;

namespace NativeTransformer.Tests.Cli;

/// <summary><c>ntr bench</c> (encoder): warm-up and iteration counts in the JSON (the speed itself is measured in bench/).</summary>
public class EncoderBenchTests
{
    private static readonly string Model = TestPaths.Model("bert-tiny-sst2");

    private static JsonElement Bench(params string[] extra)
    {
        var r = CliRunner.Run(["bench", "--model", Model, "--seq", "8", "--json", .. extra]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement.Clone();
    }

    [Fact]
    public void GivenCountsAreExact()
    {
        var o = Bench("--warmup", "2", "--iterations", "3");
        Assert.Equal(2, o.GetProperty("warmup").GetInt32());
        Assert.Equal(3, o.GetProperty("iterations").GetInt32());
    }

    [Fact]
    public void DefaultWarmUpRunsForASecondNotJustThreePasses()
    {
        // bert-tiny at 8 tokens is well under a millisecond per pass: a second of warm-up is many passes (at most 1000),
        // so the JIT's tier-up is over before timing starts.
        int warmup = Bench("--iterations", "1").GetProperty("warmup").GetInt32();
        Assert.InRange(warmup, 4, 1000);
    }
}
