using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>The oracle harness itself: it must see a difference when there is one, and say where.</summary>
public sealed class OracleHarnessTests
{
    private static OracleTokenizerFolders.Group Bert => OracleTokenizerFolders.Groups.Single(g => g.AllFolders.Contains("bert-mini-sst2"));

    [Fact]
    public void A_wrong_id_is_reported_with_input_ours_and_theirs()
    {
        using var theirs = new HfOracleTokenizer(Bert.TokenizerJson);
        var ours = new OffByOneOn("hello", TokenizerLoader.FromDirectory(TestPaths.Model(Bert.Folder)));
        var cmp = new OracleComparison(ours, theirs);
        cmp.Single("a good film");
        cmp.Single("hello world");
        Assert.True(cmp.Pair("hello", "there"));
        Assert.Equal(3, cmp.Compared);
        Assert.Equal(["no-special", "special", "pair"], cmp.Differences.Select(d => d.Mode));
        var report = cmp.Report("check");
        Assert.Contains("3 difference(s) in 3 compared inputs", report);
        Assert.Contains("input \"hello world\"", report);
        Assert.Contains("ours   7593 2089", report);   // hello = 7592, world = 2088, each shifted by one
        Assert.Contains("theirs 7592 2088", report);
    }

    [Fact]
    public void Reference_ids_are_HFs_for_single_and_pair()
    {
        using var theirs = new HfOracleTokenizer(Bert.TokenizerJson);
        Assert.Equal([7592, 2088], theirs.EncodeNoSpecial("Hello world"));
        Assert.Equal([101, 7592, 2088, 102], theirs.EncodeWithSpecial("Hello world"));
        Assert.Equal([101, 7592, 102, 2088, 102], theirs.EncodePair("Hello", "world")!);
        // The file's truncation (128) is removed: a long text keeps all its tokens.
        Assert.Equal(302, theirs.EncodeWithSpecial(string.Join(' ', Enumerable.Repeat("film", 300))).Length);
    }

    [Fact]
    public void Lone_surrogates_are_skipped_and_counted()
    {
        Assert.True(OracleComparison.HasLoneSurrogate("a\uD800b"));
        Assert.True(OracleComparison.HasLoneSurrogate("\uDC00"));
        Assert.False(OracleComparison.HasLoneSurrogate("a\uD83D\uDE00b"));
        using var theirs = new HfOracleTokenizer(Bert.TokenizerJson);
        var cmp = new OracleComparison(TokenizerLoader.FromDirectory(TestPaths.Model(Bert.Folder)), theirs);
        cmp.Single("x\uD800");
        Assert.Equal(0, cmp.Compared);
        Assert.Equal(1, cmp.SkippedLoneSurrogates);
    }

    /// <summary>A tokenizer that adds one to every id of inputs containing <paramref name="trigger"/>.</summary>
    private sealed class OffByOneOn(string trigger, ITokenizer inner) : ITokenizer
    {
        private int[] Shift(string text, int[] ids) => text.Contains(trigger) ? ids.Select(i => i + 1).ToArray() : ids;
        public string Kind => inner.Kind;
        public int VocabSize => inner.VocabSize;
        public int PadId => inner.PadId;
        public string? MaskToken => inner.MaskToken;
        public int? MaskId => inner.MaskId;
        public int? ModelMaxLength => inner.ModelMaxLength;
        public int SpecialTokenCount(bool pair) => inner.SpecialTokenCount(pair);
        public IReadOnlyList<AddedToken> AddedTokens => inner.AddedTokens;
        public string IdToToken(int id) => inner.IdToToken(id);
        public bool TryGetId(string token, out int id) => inner.TryGetId(token, out id);
        public Encoding Encode(string text, string? textPair = null, int? maxLength = null)
        {
            var e = inner.Encode(text, textPair, maxLength);
            return e with { Ids = Shift(text, e.Ids) };
        }
        public int[] EncodeIdsNoSpecial(string text) => Shift(text, inner.EncodeIdsNoSpecial(text));
        public string[] TokenizeToStrings(string text) => inner.TokenizeToStrings(text);
    }
}
