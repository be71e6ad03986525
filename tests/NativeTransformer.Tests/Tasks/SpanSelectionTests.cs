namespace NativeTransformer.Tests.Tasks;

/// <summary>
/// <see cref="SpanSelection"/> on hand-made logits. Layout of the toy window: 0 = [CLS], 1..3 = question, 4 = [SEP],
/// 5..14 = context, 15 = [SEP], 16..17 = padding.
/// </summary>
public class SpanSelectionTests
{
    private const int Length = 18;
    private static readonly bool[] Context = Enumerable.Range(0, Length).Select(i => i is >= 5 and <= 14).ToArray();

    private static float[] Logits(params (int Index, float Value)[] peaks)
    {
        var l = new float[Length];
        foreach (var (i, v) in peaks) l[i] = v;
        return l;
    }

    /// <summary>The pipeline's softmax written out plainly: over the context tokens and [CLS] only.</summary>
    private static double[] Softmax(float[] logits)
    {
        var allowed = Enumerable.Range(0, Length).Where(i => Context[i] || i == 0).ToArray();
        double max = allowed.Max(i => (double)logits[i]);
        double sum = allowed.Sum(i => Math.Exp(logits[i] - max));
        var p = new double[Length];
        foreach (int i in allowed) p[i] = Math.Exp(logits[i] - max) / sum;
        return p;
    }

    [Fact]
    public void BestSpanAndItsScoreAreTheProductOfSoftmaxProbabilities()
    {
        var start = Logits((7, 5f), (9, 2f), (0, 1f));
        var end = Logits((8, 4f), (12, 3f), (0, 1f));
        var spans = SpanSelection.Select(start, end, Context, clsIndex: 0, topK: 1, maxAnswerLen: 15, out double nullScore);
        var best = Assert.Single(spans);
        Assert.Equal((7, 8), (best.Start, best.End));
        double[] ps = Softmax(start), pe = Softmax(end);
        Assert.Equal(ps[7] * pe[8], best.Score, 12);
        Assert.Equal(ps[0] * pe[0], nullScore, 12);
    }

    [Fact]
    public void SpansLongerThanMaxAnswerLenAreNotCandidates()
    {
        var start = Logits((5, 6f));
        var end = Logits((12, 6f));
        var free = SpanSelection.Select(start, end, Context, 0, 1, maxAnswerLen: 15, out _)[0];
        Assert.Equal((5, 12), (free.Start, free.End));
        var bounded = SpanSelection.Select(start, end, Context, 0, 1, maxAnswerLen: 3, out _)[0];
        Assert.True(bounded.End - bounded.Start + 1 <= 3, $"span {bounded}");
        // The best span of at most 3 tokens either starts at the start peak or ends at the end peak.
        Assert.True(bounded.Start == 5 || bounded.End == 12, $"span {bounded}");
        var single = SpanSelection.Select(start, end, Context, 0, 50, maxAnswerLen: 1, out _);
        Assert.All(single, s => Assert.Equal(s.Start, s.End));
        Assert.Equal(10, single.Length); // one per context token
    }

    [Fact]
    public void StartNeverFollowsEnd()
    {
        var start = Logits((11, 8f));
        var end = Logits((6, 8f));
        var spans = SpanSelection.Select(start, end, Context, 0, topK: 200, maxAnswerLen: 15, out _);
        Assert.All(spans, s => Assert.True(s.Start <= s.End, $"span {s}"));
        Assert.Equal(55, spans.Length); // 10 context tokens: 10·11/2 spans with start ≤ end
        Assert.DoesNotContain(spans, s => s.Start == 11 && s.End == 6);
    }

    [Fact]
    public void OnlyContextTokensCanBeAnswers()
    {
        // The question, the separators and the padding carry the largest logits; none may become an answer.
        var start = Logits((0, 20f), (2, 20f), (4, 20f), (15, 20f), (17, 20f), (9, 1f));
        var end = Logits((0, 20f), (3, 20f), (4, 20f), (15, 20f), (16, 20f), (10, 1f));
        var spans = SpanSelection.Select(start, end, Context, 0, topK: 200, maxAnswerLen: 15, out double nullScore);
        Assert.All(spans, s => Assert.True(Context[s.Start] && Context[s.End], $"span {s}"));
        Assert.Equal((9, 10), (spans[0].Start, spans[0].End));
        // [CLS] stays in the softmax: with logit 20 against ~1 it takes nearly all of the probability mass.
        Assert.True(nullScore > 0.99, $"null score {nullScore}");
        Assert.True(spans[0].Score < 1e-6, $"score {spans[0].Score}");
    }

    [Fact]
    public void TopKIsSortedByScoreAndCut()
    {
        var start = Logits((5, 3f), (8, 2.5f), (11, 1f));
        var end = Logits((6, 3f), (9, 2f), (13, 1.5f));
        var spans = SpanSelection.Select(start, end, Context, 0, topK: 4, maxAnswerLen: 15, out _);
        Assert.Equal(4, spans.Length);
        for (int i = 1; i < spans.Length; i++) Assert.True(spans[i - 1].Score >= spans[i].Score);
        // Brute force over every candidate agrees with the top 4.
        double[] ps = Softmax(start), pe = Softmax(end);
        var all = (from s in Enumerable.Range(5, 10) from e in Enumerable.Range(s, 15 - s) select (s, e, score: ps[s] * pe[e]))
            .OrderByDescending(c => c.score).Take(4).ToArray();
        Assert.Equal(all.Select(c => (c.s, c.e)), spans.Select(s => (s.Start, s.End)));
        for (int i = 0; i < 4; i++) Assert.Equal(all[i].score, spans[i].Score, 12);
    }

    [Fact]
    public void ImpossibleAnswerRanksAboveWeakSpans()
    {
        // A window whose [CLS] dominates: "no answer" wins when it is allowed, the best span otherwise.
        var start = Logits((0, 9f), (7, 2f));
        var end = Logits((0, 9f), (8, 2f));
        var windows = new[] { ToyWindow() };
        var logits = new[] { (start, end) };
        string context = new string('x', 100);
        var with = TransformerModel.RankAnswers(context, windows, logits, new QuestionAnsweringOptions { HandleImpossibleAnswer = true, TopK = 2 }, null);
        Assert.Equal(("", 0, 0), (with[0].Answer, with[0].Start, with[0].End));
        Assert.Equal((float)(Softmax(start)[0] * Softmax(end)[0]), with[0].Score, 6);
        Assert.Equal((7 * 3, 8 * 3 + 2), (with[1].Start, with[1].End));
        var without = TransformerModel.RankAnswers(context, windows, logits, new QuestionAnsweringOptions(), null);
        Assert.Equal((21, 26), (Assert.Single(without).Start, without[0].End));
    }

    /// <summary>The toy window as an Encoding: token i of the context covers characters [3i, 3i + 2).</summary>
    private static NativeTransformer.Tokenization.Encoding ToyWindow()
    {
        var seq = Enumerable.Range(0, 16).Select(i => i == 0 || i == 4 || i == 15 ? -1 : i < 4 ? 0 : 1).ToArray();
        var offsets = Enumerable.Range(0, 16).Select(i => seq[i] == 1 ? (3 * i, 3 * i + 2) : (0, 0)).ToArray();
        return new NativeTransformer.Tokenization.Encoding(new int[16], new int[16], Enumerable.Repeat("t", 16).ToArray(), offsets, seq, false);
    }
}
