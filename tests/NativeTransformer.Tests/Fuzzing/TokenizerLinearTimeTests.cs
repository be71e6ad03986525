using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Megabyte inputs tokenize in bounded, linear time (a server tokenizes whatever a client sends). Runs alone
/// (<see cref="SerialCollection"/>) so that parallel tests do not distort the wall-clock bound.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class TokenizerLinearTimeTests(ITestOutputHelper output)
{
    public static TheoryData<string> MegabyteKinds => ["mixed", "long-words", "combining-run", "one-word", "combining", "cjk", "words", "specials", "surrogates", "spaces"];

    /// <summary>1 MB (2^20 UTF-16 units) of each kind tokenizes within 2 s, and truncation still holds.</summary>
    [Theory, MemberData(nameof(MegabyteKinds))]
    public void MegabyteStringsTokenizeInLinearTime(string kind)
    {
        const int size = 1 << 20;
        var r = new Random(kind.Length); // string.GetHashCode is randomized per process
        var sb = new StringBuilder(size + 64);
        while (sb.Length < size)
            sb.Append(kind switch
            {
                "mixed" => UnicodeFuzz.RandomText(r, 4000),
                "one-word" => new string('a', 4096),
                "long-words" => new string('x', 1 + r.Next(100)) + " ",
                "combining-run" => sb.Length == 0 ? "e" : "\u0301\u0316", // one run of non-starters, classes 230/220 alternating
                "combining" => "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",
                "cjk" => "\u4E2D\u6587\U00020000",
                "words" => "token ",
                "specials" => "[CLS][MASK] [SEP][",
                "surrogates" => "\uD800x\uDC00\uDBFF\uDFFF",
                _ => " \u3000\t\u200B",
            });
        string text = sb.ToString();
        var tok = TokenizerFuzzTests.Tokenizers.Value[0];
        _ = tok.Encode("warm up");

        // Process CPU time, not wall clock: the bound is about the algorithm, and shared CI machines are often
        // oversubscribed (load 60 on 2 cores was seen here). Nothing else runs in this process meanwhile (serial collection).
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var e = tok.Encode(text, maxLength: 512);
        wall.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        Assert.InRange(e.Length, 2, 512);
        output.WriteLine($"{kind}: {cpu.TotalMilliseconds:0} ms CPU, {wall.ElapsedMilliseconds} ms wall for {text.Length} units");
        Assert.True(cpu < TimeSpan.FromSeconds(2), $"{kind}: 1 MB took {cpu.TotalSeconds:0.00} s of CPU");
    }
}
