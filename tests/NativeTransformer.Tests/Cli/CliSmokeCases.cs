using System.Text.Json;

namespace NativeTransformer.Tests.Cli;

/// <summary>One CLI smoke check: a command line, its stdin, the exit code it must give and what its output must hold.</summary>
internal sealed record SmokeCase(string Name, string[] Args, string Stdin, int ExitCode, Action<SmokeOutput> Check)
{
    public override string ToString() => Name;
}

/// <summary>What a smoke run produced (in-process or from the AOT executable).</summary>
internal sealed record SmokeOutput(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement[] JsonLines() =>
        Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    /// <summary>The error contract: exactly one "ntr: error: ..." line on stderr, no stack frames.</summary>
    public void OneLineError(string mustContain) => new CliResult(ExitCode, Stdout, Stderr).AssertOneLineError(ExitCode, mustContain);
}

/// <summary>
/// The ONE table of CLI smoke cases, run by two runners: <see cref="CliSmokeTests"/> (CliApp in-process, as
/// `dotnet run` would) and <see cref="AotSmokeTests"/> (the Native AOT executable from build/publish-aot.sh).
/// Checks are semantic (labels, shapes, keys), not byte-exact, because the AOT binary may run other kernels than the
/// JIT (AVX2 where the JIT picks AVX-512), so the last float bits may differ.
/// </summary>
internal static class CliSmokeCases
{
    private static readonly string TinySst2 = TestPaths.Model("bert-tiny-sst2");
    private static readonly string TinyMlm = TestPaths.Model("bert-tiny-mlm");
    private static readonly string MissingModel = Path.Combine(Path.GetTempPath(), "ntr-smoke-no-such-model-" + Guid.NewGuid().ToString("N"));

    /// <summary>Eight SST-2 dev rows for `eval --data -` (stdin), so no temp file is needed.</summary>
    private static string Sst2Subset() => string.Join("\n", File.ReadLines(TestPaths.Data("sst2", "dev.tsv")).Take(9)) + "\n";

    public static readonly SmokeCase[] All =
    [
        new("version", ["--version"], "", 0, o => Assert.StartsWith("ntr ", o.Stdout)),
        new("tokenize", ["tokenize", "--model", TinySst2], "Hello, world!\n", 0, o =>
        {
            var row = Assert.Single(o.JsonLines());
            Assert.Equal(["[CLS]", "hello", ",", "world", "!", "[SEP]"], row.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()));
        }),
        new("classify-embedded-text", ["classify", "a gorgeous, witty movie"], "", 0, o =>
        {
            var row = Assert.Single(o.JsonLines());
            Assert.Equal("a gorgeous, witty movie", row.GetProperty("text").GetString());
            Assert.Equal("positive", row.GetProperty("label").GetString());
        }),
        new("classify-embedded-stdin", ["classify"], "a gorgeous, witty movie\nunflinchingly bleak and desperate\n", 0, o =>
            Assert.Equal(["positive", "negative"], o.JsonLines().Select(r => r.GetProperty("label").GetString()))),
        new("classify-model", ["classify", "--model", TinySst2], "a charming and often affecting journey\nunflinchingly bleak and desperate\n", 0, o =>
            Assert.Equal(["positive", "negative"], o.JsonLines().Select(r => r.GetProperty("label").GetString()))),
        new("embed-model-text", ["embed", "--model", TinyMlm, "hello world"], "", 0, o =>
            Assert.Equal(128, Assert.Single(o.JsonLines()).GetProperty("embedding").GetArrayLength())),
        new("embed-embedded", ["embed"], "hello\nworld\n", 0, o =>
        {
            var rows = o.JsonLines();
            Assert.Equal(2, rows.Length);
            Assert.All(rows, r => Assert.Equal(128, r.GetProperty("embedding").GetArrayLength()));
        }),
        new("fill-mask", ["fill-mask", "--model", TinyMlm, "--top-k", "3", "this movie is [MASK] ."], "", 0, o =>
        {
            var mask = Assert.Single(Assert.Single(o.JsonLines()).GetProperty("masks").EnumerateArray());
            Assert.Equal(4, mask.GetProperty("position").GetInt32());
            Assert.Equal(3, mask.GetProperty("candidates").GetArrayLength());
        }),
        new("inspect-embedded", ["inspect", "--json"], "", 0, o =>
        {
            var s = Assert.Single(o.JsonLines());
            Assert.True(s.GetProperty("embedded").GetBoolean());
            Assert.Equal(2, s.GetProperty("layers").GetInt32());
            Assert.Equal(13, s.GetProperty("tensors_by_dtype").GetProperty("I8").GetInt32());
        }),
        new("inspect-model", ["inspect", "--model", TinySst2, "--json"], "", 0, o =>
            Assert.False(Assert.Single(o.JsonLines()).GetProperty("embedded").GetBoolean())),
        new("eval-subset", ["eval", "--model", TinySst2, "--task", "sst2", "--data", "-"], "<sst2-subset>", 0, o =>
        {
            var r = Assert.Single(o.JsonLines());
            Assert.Equal(8, r.GetProperty("n").GetInt32());
            Assert.InRange(r.GetProperty("accuracy").GetDouble(), 50, 100);
        }),
        // Every tokenizer family and model family: tokenize, classify and embed (the AOT binary runs these too).
        .. Family("roberta", "roberta-mini-sst2", ["<s>", "Hello", ",", "Ġworld", "!", "</s>"]),
        .. Family("xlmr", "xlmr-mini-sst2", ["<s>", "▁He", "ll", "o", ",", "▁world", "!", "</s>"]),
        .. Family("albert-spm", "albert-spm-mini-sst2", ["[CLS]", "▁hello", ",", "▁world", "!", "[SEP]"]),
        new("tokenize-t5", ["tokenize", "--model", TestPaths.Model("t5-encoder-mini-sst2")], "Hello, world!\n", 0, o =>
            Assert.Equal(["▁Hello", ",", "▁world", "!", "</s>"], Assert.Single(o.JsonLines()).GetProperty("tokens").EnumerateArray().Select(t => t.GetString()))),
        new("bad-option", ["classify", "--bogus"], "", 2, o => o.OneLineError("'--bogus'")),
        new("missing-model", ["classify", "--model", MissingModel, "hello"], "", 1, o => o.OneLineError("model folder not found")),
        new("text-and-input", ["embed", "--input", "x.txt", "hello"], "", 2, o => o.OneLineError("not both")),
    ];

    /// <summary>tokenize (exact tokens of "Hello, world!"), classify (two clear SST-2 sentences) and embed for one folder.</summary>
    private static SmokeCase[] Family(string name, string model, string[] helloTokens)
    {
        string dir = TestPaths.Model(model);
        return
        [
            new($"tokenize-{name}", ["tokenize", "--model", dir], "Hello, world!\n", 0, o =>
                Assert.Equal(helloTokens, Assert.Single(o.JsonLines()).GetProperty("tokens").EnumerateArray().Select(t => t.GetString()))),
            new($"classify-{name}", ["classify", "--model", dir], "a gorgeous , witty , seductive movie .\nthe acting is wooden and the plot makes no sense .\n", 0, o =>
                Assert.Equal(["positive", "negative"], o.JsonLines().Select(r => r.GetProperty("label").GetString()))),
            new($"embed-{name}", ["embed", "--model", dir, "hello world"], "", 0, o =>
                Assert.Equal(64, Assert.Single(o.JsonLines()).GetProperty("embedding").GetArrayLength())),
        ];
    }

    public static IEnumerable<object[]> Names() => All.Select(c => new object[] { c.Name });

    public static SmokeCase Get(string name) => All.Single(c => c.Name == name);

    /// <summary>The case's stdin with placeholders filled in.</summary>
    public static string StdinOf(SmokeCase c) => c.Stdin == "<sst2-subset>" ? Sst2Subset() : c.Stdin;

    /// <summary>Checks a run against its case: exit code, empty stderr on success, then the case's own check.</summary>
    public static void Verify(SmokeCase c, SmokeOutput o)
    {
        Assert.True(o.ExitCode == c.ExitCode, $"{c.Name}: exit {o.ExitCode}, expected {c.ExitCode}; stderr: {o.Stderr}");
        if (c.ExitCode == 0) Assert.Equal("", o.Stderr);
        c.Check(o);
    }
}
