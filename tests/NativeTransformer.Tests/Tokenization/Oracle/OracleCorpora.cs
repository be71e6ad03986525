using System.Text;
using NativeTransformer.Evaluation;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>Inputs for the oracle tests: the GLUE/STS sentences of ../shared/data and seeded random Unicode.</summary>
internal static class OracleCorpora
{
    private static readonly Lazy<(string[] Sentences, (string, string)[] Pairs)> _glue = new(LoadGlue);

    /// <summary>Every sentence of SST-2 train + dev, STS-B train/dev/test (both sides) and MRPC train + dev (both sides),
    /// in file order, duplicates kept (~95k).</summary>
    public static string[] GlueSentences => _glue.Value.Sentences;

    /// <summary>The STS-B and MRPC sentence pairs (~12.7k).</summary>
    public static (string Text, string Pair)[] GluePairs => _glue.Value.Pairs;

    private static (string[], (string, string)[]) LoadGlue()
    {
        var sentences = new List<string>();
        var pairs = new List<(string, string)>();
        foreach (var file in new[] { "train.tsv", "dev.tsv" })
            sentences.AddRange(TaskDataReader.ReadFile(EvalTask.Sst2, TestPaths.Data("sst2", file)).Select(e => e.Text));
        foreach (var (task, folder, files) in new[]
                 {
                     (EvalTask.Stsb, "stsbenchmark", new[] { "sts-train.csv", "sts-dev.csv", "sts-test.csv" }),
                     (EvalTask.Mrpc, "mrpc", new[] { "train.tsv", "dev.tsv" }),
                 })
            foreach (var file in files)
                foreach (var e in TaskDataReader.ReadFile(task, TestPaths.Data(folder, file)))
                {
                    sentences.Add(e.Text);
                    sentences.Add(e.TextPair!);
                    pairs.Add((e.Text, e.TextPair!));
                }
        return (sentences.ToArray(), pairs.ToArray());
    }

    /// <summary>
    /// <paramref name="count"/> strings of 1..40 code points drawn from a seeded generator: ASCII (letters, digits,
    /// punctuation, spaces), Latin letters with accents, combining marks, CJK and kana, emoji (with ZWJ and variation
    /// selectors), control/format/whitespace characters, and uniformly random code points of the whole range.
    /// Never lone surrogates (the reference cannot take them); noncharacters and unassigned code points are allowed.
    /// </summary>
    public static string[] RandomUnicode(int count, int seed)
    {
        var rng = new Random(seed);
        var result = new string[count];
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            sb.Clear();
            int length = 1 + rng.Next(40);
            for (int k = 0; k < length; k++) sb.Append(char.ConvertFromUtf32(NextCodePoint(rng)));
            result[i] = sb.ToString();
        }
        return result;
    }

    private static readonly int[] Controls =
    [
        0x00, 0x01, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1F, 0x7F, 0x85, 0x9F, 0xA0, 0xAD, 0x1680, 0x180E, 0x2000, 0x200A,
        0x200B, 0x200C, 0x200D, 0x200E, 0x2028, 0x2029, 0x202F, 0x205F, 0x2060, 0x3000, 0xFEFF, 0xFFFD, 0xFFFE, 0xE000,
        0xF8FF, 0x1D173, 0xE0001, 0xE0020, 0xF0000, 0x10FFFD,
    ];

    private static int NextCodePoint(Random rng)
    {
        int pool = rng.Next(100);
        return pool switch
        {
            < 30 => rng.Next(4) == 0 ? ' ' : 0x21 + rng.Next(0x7F - 0x21),   // ASCII, a quarter spaces
            < 42 => 0xC0 + rng.Next(0x250 - 0xC0),                          // Latin-1 Supplement, Latin Extended-A/B
            < 50 => 0x300 + rng.Next(0x70),                                 // combining diacritical marks
            < 60 => rng.Next(3) switch
            {
                0 => 0x4E00 + rng.Next(0x9FFF - 0x4E00 + 1),                // CJK unified ideographs
                1 => 0x3040 + rng.Next(0x100),                              // hiragana, katakana
                _ => 0xAC00 + rng.Next(0xD7A4 - 0xAC00),                    // Hangul syllables
            },
            < 68 => rng.Next(4) switch
            {
                0 => 0x200D,                                                // zero width joiner
                1 => 0xFE0F,                                                // variation selector-16
                _ => 0x1F300 + rng.Next(0x1FB00 - 0x1F300),                 // emoji and pictographs
            },
            < 78 => Controls[rng.Next(Controls.Length)],
            _ => RandomScalar(rng),
        };
    }

    private static int RandomScalar(Random rng)
    {
        while (true)
        {
            // Half from the BMP (where most scripts live), half from the whole range.
            int cp = rng.Next(2) == 0 ? rng.Next(0x10000) : rng.Next(0x110000);
            if (cp is < 0xD800 or > 0xDFFF) return cp;
        }
    }
}
