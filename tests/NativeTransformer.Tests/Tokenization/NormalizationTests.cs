using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>BertNormalizer corner cases: accents, case, CJK, control/zero-width/bidi characters, surrogates.</summary>
public class NormalizationTests
{
    private static WordPieceTokenizer Tok => TokenizerTestData.BertUncased;

    private static WordPieceTokenizer Small(TokenizerOptions? o = null) =>
        WordPieceTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"], o);

    [Theory]
    [InlineData("Héllo Wörld", "hello world")]
    [InlineData("Café naïve résumé", "cafe naive resume")]
    [InlineData("ÉCOLE Ångström", "ecole angstrom")]
    [InlineData("İstanbul", "istanbul")]               // NFD (I + U+0307), Mn dropped, then lowercase
    [InlineData("ΟΔΟΣ", "οδοσ")]                       // per-char lowercase: no final-sigma rule (Rust semantics)
    [InlineData("ǅemal", "ǆemal")]                     // U+01C5 has only a compatibility decomposition: kept, lowercased
    [InlineData("Ω K Å", "ω k a")]                     // singleton decompositions: OHM, KELVIN, ANGSTROM signs
    [InlineData("ﬁne", "ﬁne")]                         // compatibility decompositions are NOT applied (NFD only)
    [InlineData("hel\u0007lo\u007F", "hello")]          // Cc removed
    [InlineData("foo\u200Bbar\u200D\uFEFF\u00AD", "foobar")] // Cf removed (zero-width space/joiner, BOM, soft hyphen)
    [InlineData("\u200Fhello\u200E \u202Eabc\u202C", "hello abc")] // bidi controls (Cf) removed
    [InlineData("a\tb\nc\r\nd", "a b c  d")]            // \t \n \r -> ' '
    [InlineData("a\u00A0b\u3000c\u2028d\u2003e", "a b c d e")] // White_Space -> ' '
    [InlineData("a\u0085b\u000Bc", "abc")]              // NEL and VT are Cc: removed before the whitespace map
    [InlineData("a\u0000b\uFFFDc", "abc")]
    [InlineData("a\uE000b", "ab")]                      // private use (Co) removed
    [InlineData("我喜欢", " 我  喜  欢 ")]
    [InlineData("\U00020000x", " \U00020000 x")]         // CJK Ext B is isolated (Rust walks chars, not UTF-16 units)
    [InlineData("\U0002B820x", "\U0002B820x")]           // ... but U+2B820..2B91F is outside Rust's range (0x2B920)
    public void NormalizesLikeHf(string input, string expected) => Assert.Equal(expected, Tok.Normalize(input));

    [Fact]
    public void LowercaseWithoutStripAccentsUsesFullMapping()
    {
        var t = Small(new TokenizerOptions { StripAccents = false });
        Assert.Equal("i\u0307stanbul", t.Normalize("İstanbul")); // U+0130 -> i + COMBINING DOT ABOVE
        Assert.Equal("héllo", t.Normalize("HÉllo"));
    }

    [Fact]
    public void CasedTokenizerKeepsCaseButMayStripAccents()
    {
        Assert.Equal("HÉllo", Small(new TokenizerOptions { Lowercase = false }).Normalize("HÉllo"));
        Assert.Equal("HEllo", Small(new TokenizerOptions { Lowercase = false, StripAccents = true }).Normalize("HÉllo"));
    }

    [Fact]
    public void HangulSyllablesDecomposeAlgorithmically() => Assert.Equal("\u1100\u1161\u11A8", Tok.Normalize("\uAC01"));

    [Fact]
    public void NfdReordersNonStartersByCombiningClass()
    {
        // U+1D16D (Mc, ccc 226) before U+1D165 (Mc, ccc 216): NFD swaps them; neither is Mn, so both survive.
        Assert.Equal("x\U0001D165\U0001D16D", Tok.Normalize("x\U0001D16D\U0001D165"));
    }

    [Fact]
    public void UnpairedSurrogatesAreDroppedLikeReplacementChars()
    {
        Assert.Equal("ab", Tok.Normalize("a\uD800b"));
        Assert.Equal("ab", Tok.Normalize("a\uDC00b"));
        Assert.Equal("a", Tok.Normalize("a\uD83D"));     // high surrogate at the end
        var e = Tok.Encode("a\uD800b");
        Assert.Equal(["[CLS]", "ab", "[SEP]"], e.Tokens);
        Assert.Equal((0, 3), e.Offsets[1]);
        // with clean_text off they become U+FFFD
        Assert.Equal("a\uFFFDb", Small(new TokenizerOptions { CleanText = false }).Normalize("a\uD800b"));
    }

    [Fact]
    public void TablesCoverAstralPlanes()
    {
        Assert.True(UnicodeTables.IsOther(0xE0001));           // LANGUAGE TAG (Cf)
        Assert.True(UnicodeTables.IsOther(0x10FFFD));          // plane 16 private use
        Assert.False(UnicodeTables.IsOther(0x1F600));          // emoji (So)
        Assert.True(UnicodeTables.IsNonSpacingMark(0x1DA9B));  // SIGNWRITING FILL MODIFIER-2 (Mn)
        Assert.True(BertPreTokenizer.IsPunctuation(0x1DA87));  // SIGNWRITING COMMA (Po)
        // Categories are Unicode 8.0's, as in HF's tokenizers (docs/tokenizers.md): later additions are neither.
        Assert.False(UnicodeTables.IsNonSpacingMark(0x1E944)); // ADLAM ALIF LENGTHENER (Mn since 9.0)
        Assert.False(BertPreTokenizer.IsPunctuation(0x16FE2)); // OLD CHINESE HOOK MARK (Po since 12.0)
        Assert.True(BertPreTokenizer.IsPunctuation('$'));      // ASCII punctuation even though it is Sc
        Assert.False(BertPreTokenizer.IsPunctuation(0x20AC));  // EURO SIGN (Sc) is not
    }
}
