using System.Diagnostics;
using System.Text;
using Encoding = System.Text.Encoding;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Fuzzes <see cref="WordPieceTokenizer"/> with random Unicode (<see cref="UnicodeFuzz"/>), single texts and pairs, with
/// and without truncation, under the shipped settings and under "raw" settings (no clean_text, no lowercasing, so control
/// characters and broken surrogates reach WordPiece). Checks <see cref="TokenizerInvariants"/> on every input, and that
/// megabyte inputs take linear time.
/// </summary>
public sealed class TokenizerFuzzTests(ITestOutputHelper output)
{
    internal static readonly Lazy<WordPieceTokenizer[]> Tokenizers = new(() =>
    [
        WordPieceTokenizer.FromDirectory(TestPaths.Model("bert-tiny-sst2")),
        WordPieceTokenizer.FromVocabFile(Path.Combine(TestPaths.Model("bert-tiny-sst2"), "vocab.txt"),
            new TokenizerOptions { CleanText = false, Lowercase = false, StripAccents = false, TokenizeChineseChars = false, MaxInputCharsPerWord = 200 }),
        WordPieceTokenizer.FromDirectory(TestPaths.Model("albert-mini-sst2")),
    ]);

    private sealed record Input(int Tokenizer, string Text, string? Pair, int? MaxLength);

    [Fact]
    public void FuzzTokenizerOnRandomUnicode()
    {
        var tokenizers = Tokenizers.Value;
        var result = FuzzRunner.Run("tokenizer", FuzzBudget.For(ciInputs: 600, ciSeed: 777),
            r => new Input(r.Next(tokenizers.Length), UnicodeFuzz.RandomText(r, 3000), r.Next(3) == 0 ? UnicodeFuzz.RandomText(r, 500) : null,
                r.Next(3) switch { 0 => null, 1 => 3 + r.Next(30), _ => 128 + r.Next(400) }),
            input => TokenizerInvariants.EncodeAndCheck(tokenizers[input.Tokenizer], input.Text, input.Pair, input.MaxLength),
            input => Encoding.UTF8.GetBytes($"tokenizer {input.Tokenizer}, max {input.MaxLength}\n" + Escape(input.Text) + "\n" + Escape(input.Pair ?? "")),
            ".txt", output);
        Assert.Equal(0, result.Refused); // any text is valid input: nothing may be refused
    }

    /// <summary>Lossless text dump (\uXXXX for anything non-printable, so broken surrogates survive the file).</summary>
    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s) sb.Append(c is >= ' ' and < '\u007F' and not '\\' ? c.ToString() : $"\\u{(int)c:X4}");
        return sb.ToString();
    }
}
