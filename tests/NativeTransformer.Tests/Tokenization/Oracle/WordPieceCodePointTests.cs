using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>
/// Every Unicode scalar value, alone and between letters ("a" + cp + "b"), through our WordPiece tokenizers and HF's
/// Rust tokenizers: the ids must be identical. This pins the Unicode data of the BERT normalizer and pre-tokenizer
/// (control / whitespace / punctuation / Mn / NFD / lowercase) to exactly what the reference uses, code point by code
/// point (surrogate code points are not scalar values; neither side accepts them).
/// </summary>
public sealed class WordPieceCodePointTests(ITestOutputHelper output)
{
    public static TheoryData<string> WordPieceFolders()
    {
        var data = new TheoryData<string>();
        foreach (var g in OracleTokenizerFolders.Groups)
            if (TokenizerOracleTests.ModelType(g) == "WordPiece") data.Add(g.Folder);
        return data;
    }

    [Theory]
    [MemberData(nameof(WordPieceFolders))]
    public void Every_code_point_matches_HuggingFace(string folder)
    {
        var (ours, theirs, _) = TokenizerOracleTests.Load(folder);
        using var _ = theirs;
        var differing = new List<string>();
        int compared = 0;
        var sw = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        for (int cp = 0; cp < 0x110000; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            string c = char.ConvertFromUtf32(cp);
            foreach (var text in new[] { c, "a" + c + "b" })
            {
                compared++;
                var mine = ours.EncodeIdsNoSpecial(text);
                var reference = theirs.EncodeNoSpecial(text);
                if (!mine.AsSpan().SequenceEqual(reference))
                    differing.Add($"U+{cp:X4} in {OracleComparison.Escape(text)}: ours {string.Join(' ', mine)}, theirs {string.Join(' ', reference)}");
            }
        }
        output.WriteLine($"{folder}: {compared} strings in {sw.Elapsed.TotalSeconds:F1} s ({(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1} s CPU of the test process)");
        Assert.Equal(2 * (0x110000 - 0x800), compared);
        Assert.True(differing.Count == 0,
            $"{folder}: {differing.Count} of {compared} code point strings differ from HF tokenizers:\n  " + string.Join("\n  ", differing.Take(20)));
    }
}
