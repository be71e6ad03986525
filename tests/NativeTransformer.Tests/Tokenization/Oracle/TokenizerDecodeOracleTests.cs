using System.Text;
using NativeTransformer.Evaluation;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>
/// <see cref="ITokenizer.Decode"/> against Hugging Face's Rust tokenizers' <c>decode</c>, for every distinct
/// tokenizer.json of ../shared/models (WordPiece for the BERT family, byte-level BPE for RoBERTa, Unigram with Metaspace
/// for XLM-R, ALBERT-spm and T5): the ids of SST-2 dev sentences and of accented / CJK / emoji text, encoded with and
/// without special tokens, then decoded with and without skip_special_tokens; and seeded random id sequences over the
/// whole vocabulary (continuation pieces first, byte tokens splitting a character, special tokens in the middle),
/// which real text does not produce. Strings must be equal exactly.
/// </summary>
public sealed class TokenizerDecodeOracleTests(ITestOutputHelper output)
{
    public static TheoryData<string> Folders() => OracleTokenizerFolders.FolderNames();

    private const int SentenceCount = 300, RandomSequences = 300, RandomSeed = 20261206;

    /// <summary>Text the SST-2 sentences (lowercased ASCII) lack.</summary>
    internal static readonly string[] Extra =
    [
        "Crème brûlée in São Paulo, naïve café — déjà vu!",
        "ÉCOLE Ångström Øresund Łódź İstanbul ß",
        "東京タワーは高い。我爱北京天安门。한국어 문장입니다.",
        "Emoji: 😀👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ done.",
        "It's   spaced\tout\nover lines , isn't it ? I 'm sure they 're n't .",
        "Mixed 東京 and café with 😀 and [MASK] <mask> </s> literal tokens.",
        "x ## y ##z ▁ Ġ <0x41> </w>",
        "   leading and trailing spaces   ",
        "",
    ];

    [SkippableTheory]
    [MemberData(nameof(Folders))]
    public void Decode_matches_HuggingFace(string folder)
    {
        var (ours, theirs, group) = TokenizerOracleTests.Load(folder);
        using var _ = theirs;
        var texts = TaskDataReader.ReadFile(EvalTask.Sst2, TestPaths.Data("sst2", "dev.tsv")).Select(e => e.Text).Take(SentenceCount)
            .Concat(Extra).ToList();
        var sequences = new List<int[]>();
        foreach (var t in texts)
        {
            sequences.Add(ours.Encode(t).Ids);
            sequences.Add(ours.EncodeIdsNoSpecial(t));
        }
        var rng = new Random(RandomSeed);
        for (int i = 0; i < RandomSequences; i++)
        {
            var ids = new int[1 + rng.Next(12)];
            for (int k = 0; k < ids.Length; k++)
                ids[k] = rng.Next(8) == 0 && ours.AddedTokens.Count > 0 ? ours.AddedTokens[rng.Next(ours.AddedTokens.Count)].Id : rng.Next(ours.VocabSize);
            sequences.Add(ids);
        }

        var failures = new StringBuilder();
        int compared = 0, failed = 0, skipMatters = 0;
        foreach (var ids in sequences)
        {
            if (theirs.Decode(ids, true) != theirs.Decode(ids, false)) skipMatters++;
            foreach (bool skip in new[] { true, false })
            {
                string expected = theirs.Decode(ids, skip);
                string actual = ours.Decode(ids, skip);
                compared++;
                if (expected == actual) continue;
                if (++failed <= 10)
                    failures.AppendLine($"  skip={skip} ids=[{string.Join(",", ids)}]\n    HF:   «{Escape(expected)}»\n    ours: «{Escape(actual)}»");
            }
        }
        output.WriteLine($"{group.Folder} ({ours.Kind}): {compared} decodes compared, {failed} differ");
        Assert.True(failed == 0, $"{folder}: {failed} of {compared} decodes differ from HF tokenizers:\n{failures}");
        Assert.True(compared >= 2 * (2 * SentenceCount + RandomSequences));
        // The oracle's two modes really differ (its no-skip copy keeps the special tokens): every sentence encoded with
        // special tokens at least.
        Assert.True(skipMatters >= SentenceCount, $"skip_special_tokens changed HF's output for only {skipMatters} sequences");
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (var r in s.EnumerateRunes())
            sb.Append(r.Value < 0x20 || r.Value is 0xFFFD ? $"\\u{r.Value:X4}" : r.ToString());
        return sb.ToString();
    }
}
