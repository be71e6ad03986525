namespace NativeTransformer.Tests.Tokenization;

/// <summary>
/// The 46 WordPiece conformance vectors of data/tokenizer_tests (bert-bge, from llama.cpp; ids without special
/// tokens, produced by HF AutoTokenizer) against the bert-base-uncased vocabulary.
/// </summary>
public class BgeVectorTests
{
    public static IEnumerable<object[]> Cases()
    {
        var inp = File.ReadAllText(TestPaths.Data("tokenizer_tests", "bert-bge.inp"));
        var outp = File.ReadAllText(TestPaths.Data("tokenizer_tests", "bert-bge.out"));
        var texts = inp.Split("\n__ggml_vocab_test__\n");
        // the file ends with the separator: drop the trailing empty remainder
        if (texts[^1].Length == 0) texts = texts[..^1];
        var lines = outp.Split('\n');
        for (int i = 0; i < texts.Length; i++) yield return [i, texts[i], lines[i]];
    }

    [Fact]
    public void FileHas46Vectors() => Assert.Equal(46, Cases().Count());

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesExpectedIds(int index, string text, string expected)
    {
        var want = expected.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var got = TokenizerTestData.BertUncased.EncodeIdsNoSpecial(text);
        Assert.True(want.SequenceEqual(got),
            $"vector {index} {System.Text.Json.JsonSerializer.Serialize(text)}: expected [{string.Join(' ', want)}] got [{string.Join(' ', got)}]");
    }
}
