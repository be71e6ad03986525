using NativeTransformer.Tasks;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tasks;

/// <summary>Hugging Face's aggregation rules on hand-made token probabilities (no model).</summary>
public class EntityAggregatorTests
{
    private static readonly string[] Labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    // "Jo visited Washingtonville": washing|##ton|##ville is one word in three pieces, and the entity ends the text.
    private const string Text = "Jo visited Washingtonville";
    private static readonly Encoding Encoded = new(
        Ids: [101, 1, 2, 3, 4, 5, 102], TypeIds: new int[7],
        Tokens: ["[CLS]", "jo", "visited", "washing", "##ton", "##ville", "[SEP]"],
        Offsets: [(0, 0), (0, 2), (3, 10), (11, 18), (18, 21), (21, 26), (0, 0)],
        SequenceIds: [-1, 0, 0, 0, 0, 0, -1], Truncated: false);

    //                                           O     B-PER I-PER B-LOC I-LOC
    private static readonly float[] Probs = [0.2f, 0.2f, 0.2f, 0.2f, 0.2f,    // [CLS] (skipped)
                                             0.1f, 0.9f, 0f, 0f, 0f,          // jo: B-PER .9
                                             0.8f, 0.1f, 0.1f, 0f, 0f,        // visited: O
                                             0.4f, 0f, 0f, 0.6f, 0f,          // washing: B-LOC .6
                                             0.3f, 0f, 0f, 0f, 0.7f,          // ##ton: I-LOC .7
                                             0.55f, 0f, 0f, 0f, 0.45f,        // ##ville: O .55
                                             0.2f, 0.2f, 0.2f, 0.2f, 0.2f];   // [SEP]

    private static (string, string, int, int, float)[] Run(EntityAggregation a, string? prefix = "##") =>
        EntityAggregator.Aggregate(Text, Encoded, Probs, Labels, a, prefix, unkId: 100)
            .Select(e => (e.Label, e.Word, e.Start, e.End, MathF.Round(e.Score, 4))).ToArray();

    [Fact]
    public void NoneGivesEveryNonOTokenWithItsFullLabelAndIndex()
    {
        var entities = EntityAggregator.Aggregate(Text, Encoded, Probs, Labels, EntityAggregation.None, "##", 100);
        Assert.Equal([("B-PER", "Jo", 1, 0.9f), ("B-LOC", "Washing", 3, 0.6f), ("I-LOC", "ton", 4, 0.7f)],
            entities.Select(e => (e.Label, e.Word, e.Index!.Value, e.Score)).ToArray());
    }

    [Fact]
    public void SimpleMergesAdjacentTokensOfOneTypeAndCanSplitAWord() =>
        Assert.Equal([("PER", "Jo", 0, 2, 0.9f), ("LOC", "Washington", 11, 21, 0.65f)], Run(EntityAggregation.Simple));

    [Fact]
    public void FirstLabelsTheWholeWordByItsFirstPiece() =>
        Assert.Equal([("PER", "Jo", 0, 2, 0.9f), ("LOC", "Washingtonville", 11, 26, 0.6f)], Run(EntityAggregation.First));

    [Fact]
    public void AverageTakesTheArgmaxOfThePiecesMeanProbabilities() =>
        // mean over the three pieces: O 0.4167 > I-LOC 0.3833 > B-LOC 0.2, so the word is O and drops out.
        Assert.Equal([("PER", "Jo", 0, 2, 0.9f)], Run(EntityAggregation.Average));

    [Fact]
    public void MaxTakesTheMostConfidentPiece() =>
        // ##ton's 0.7 is the highest piece score: the word is I-LOC, which opens a group on its own.
        Assert.Equal([("PER", "Jo", 0, 2, 0.9f), ("LOC", "Washingtonville", 11, 26, 0.7f)], Run(EntityAggregation.Max));

    [Fact]
    public void WithoutAContinuationMarkWordsAreWhatNoSpaceSeparates()
    {
        foreach (var a in new[] { EntityAggregation.First, EntityAggregation.Max })
            Assert.Equal(Run(a), Run(a, prefix: null));
    }

    [Fact]
    public void BLabelsNeverMergeAndIAfterBOfTheSameTypeDoes()
    {
        const string text = "Paris London New York";
        var enc = new Encoding([101, 1, 2, 3, 4, 102], new int[6], ["[CLS]", "paris", "london", "new", "york", "[SEP]"],
            [(0, 0), (0, 5), (6, 12), (13, 16), (17, 21), (0, 0)], [-1, 0, 0, 0, 0, -1], false);
        float[] probs = [1, 0, 0, 0, 0,  0, 0, 0, 1, 0,  0, 0, 0, 1, 0,  0, 0, 0, 1, 0,  0, 0, 0, 0, 1,  1, 0, 0, 0, 0];
        foreach (var a in new[] { EntityAggregation.Simple, EntityAggregation.First, EntityAggregation.Average, EntityAggregation.Max })
            Assert.Equal(["Paris", "London", "New York"], EntityAggregator.Aggregate(text, enc, probs, Labels, a, "##", 100).Select(e => e.Word));
    }

    [Fact]
    public void AnUnknownPieceStartsAWord()
    {
        var enc = Encoded with { Ids = [101, 1, 2, 3, 100, 5, 102] }; // ##ton is [UNK]
        // Average: "washing" alone is B-LOC .6; "[UNK]ville" averages to I-LOC .575 and continues it (without the [UNK]
        // rule the three pieces average to O, see above).
        var entities = EntityAggregator.Aggregate(Text, enc, Probs, Labels, EntityAggregation.Average, "##", 100);
        Assert.Equal([("Jo", 0.9f), ("Washingtonville", 0.5875f)], entities.Select(e => (e.Word, MathF.Round(e.Score, 4))));
    }

    [Fact]
    public void UnknownAggregationNamesAreRefused()
    {
        Assert.Equal(EntityAggregation.Average, EntityAggregations.Parse("average"));
        var e = Assert.Throws<InputException>(() => EntityAggregations.Parse("Simple"));
        Assert.Contains("none, simple, first, average, max", e.Message);
    }
}
