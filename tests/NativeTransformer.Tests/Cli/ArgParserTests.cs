using NativeTransformer.Cli;

namespace NativeTransformer.Tests.Cli;

public class ArgParserTests
{
    private static readonly CommandSpec Spec = new(
        "demo", "Demo command.", "ntr demo --model DIR",
        [new("--model", "DIR", "model"), new("--json", null, "flag"), new("--top-k", "K", "k")],
        PositionalName: "TEXT");

    [Fact]
    public void ParsesValuesFlagsEqualsAndPositional()
    {
        var p = ParsedArgs.Parse(Spec, ["--model", "m", "--json", "--top-k=3", "hello"]);
        Assert.Equal("m", p.Get("--model"));
        Assert.True(p.Has("--json"));
        Assert.Equal(3, p.PositiveInt("--top-k"));
        Assert.Equal(["hello"], p.Positionals);
        Assert.False(p.HelpRequested);
    }

    [Fact]
    public void DoubleDashEndsOptionsAndDashIsAValue()
    {
        var p = ParsedArgs.Parse(Spec, ["--model", "-", "--", "--not-an-option"]);
        Assert.Equal("-", p.Get("--model"));
        Assert.Equal(["--not-an-option"], p.Positionals);
    }

    [Fact]
    public void UnknownOptionIsUsageErrorNamingIt()
    {
        var e = Assert.Throws<UsageException>(() => ParsedArgs.Parse(Spec, ["--modle", "x"]));
        Assert.Contains("'--modle'", e.Message);
        Assert.Equal("demo", e.Command);
    }

    [Fact]
    public void MissingValueIsUsageError()
    {
        Assert.Contains("needs a value", Assert.Throws<UsageException>(() => ParsedArgs.Parse(Spec, ["--model"])).Message);
        Assert.Contains("needs a value", Assert.Throws<UsageException>(() => ParsedArgs.Parse(Spec, ["--model", "--json"])).Message);
    }

    [Fact]
    public void RepeatedOptionFlagWithValueAndExtraPositionalAreUsageErrors()
    {
        Assert.Throws<UsageException>(() => ParsedArgs.Parse(Spec, ["--model", "a", "--model", "b"]));
        Assert.Throws<UsageException>(() => ParsedArgs.Parse(Spec, ["--json=1"]));
        Assert.Throws<UsageException>(() => ParsedArgs.Parse(Spec, ["a", "b"]));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("+3")]
    [InlineData(" 3")]
    [InlineData("99999999999")]
    public void BadNumbersAreUsageErrors(string value)
    {
        var p = ParsedArgs.Parse(Spec, ["--top-k", value]);
        var e = Assert.Throws<UsageException>(() => p.PositiveInt("--top-k"));
        Assert.Contains("--top-k", e.Message);
        Assert.Contains("positive integer", e.Message);
    }

    [Fact]
    public void HelpAnywhereIsRecorded()
    {
        Assert.True(ParsedArgs.Parse(Spec, ["--model", "x", "-h"]).HelpRequested);
        Assert.True(ParsedArgs.Parse(Spec, ["--help"]).HelpRequested);
    }

    [Fact]
    public void RequiredMissingIsUsageError()
    {
        var p = ParsedArgs.Parse(Spec, []);
        Assert.Contains("'--model'", Assert.Throws<UsageException>(() => p.Required("--model")).Message);
    }

    [Fact]
    public void HelpTextListsEveryOption()
    {
        string help = Spec.HelpText();
        Assert.StartsWith("Usage: ntr demo", help);
        Assert.Contains("--model DIR", help);
        Assert.Contains("--top-k K", help);
        Assert.Contains("--help", help);
    }
}
