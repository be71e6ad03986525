using NativeTransformer.Tasks;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tasks;

/// <summary>
/// LoadOptions.Overflow (docs/long-documents.md): a text of thousands of tokens is refused (error), cut and flagged
/// (truncate) or run in windows whose results are combined (window) — checked against sums computed here from the
/// encoder's own per-window outputs over the exact window token ranges.
/// </summary>
public class LongDocumentTests(ITestOutputHelper output)
{
    private static readonly string Sst2 = TestPaths.Model("bert-mini-sst2");
    private static readonly string Ner = TestPaths.Model("bert-mini-ner");
    private const int MaxLength = 128, Stride = 32;

    private const string Sentence = "The film is a charming and often affecting journey through the old city , and the actors are wonderful . ";

    /// <summary>About 5,000 WordPiece tokens of real words.</summary>
    internal static string LongText(int sentences = 250) => string.Concat(Enumerable.Repeat(Sentence, sentences)).TrimEnd();

    private static LoadOptions Options(OverflowMode mode, bool? normalize = null) =>
        new() { MaxLength = MaxLength, Overflow = mode, OverflowStride = mode == OverflowMode.Window ? Stride : null, Normalize = normalize };

    [Fact]
    public void ErrorModeRefusesALongTextWithTheCountsAndTheWayOut()
    {
        string text = LongText();
        using var model = TransformerModel.Load(Sst2, Options(OverflowMode.Error));
        int tokens = model.Tokenizer.Encode(text).Length;
        Assert.InRange(tokens, 5000, 5100);
        foreach (var call in new Action[] { () => model.Classify(["short", text]), () => model.Embed(["short", text]) })
        {
            var e = Assert.Throws<InputException>(call);
            output.WriteLine(e.Message);
            Assert.Contains($"input 1 has {tokens} tokens", e.Message);
            Assert.Contains($"max length of {MaxLength}", e.Message);
            Assert.Contains("--overflow window", e.Message);
            Assert.Equal(1, e.InputIndex);
        }
        // A text that fits passes.
        Assert.False(model.Classify(["short"])[0].Truncated);
    }

    [Fact]
    public void TruncateModeSaysSoPerResult()
    {
        using var model = TransformerModel.Load(Sst2, Options(OverflowMode.Truncate));
        var classified = model.Classify(["short", LongText()]);
        Assert.Equal([false, true], classified.Select(c => c.Truncated));
        Assert.All(classified, c => Assert.Equal(1, c.Windows));
        var embedded = model.EmbedResults(["short", LongText()]);
        Assert.Equal([false, true], embedded.Select(c => c.Truncated));
        // Truncation is what it was: the long text's result is that of its first MaxLength tokens.
        var cut = model.Tokenizer.Encode(LongText(), null, MaxLength);
        var logits = model.Encode(PostProcessor.Pad([cut], model.Tokenizer.PadId)).Logits!;
        Assert.Equal(logits, classified[1].Logits);
    }

    [Fact]
    public void WindowModeOnATextThatFitsIsTheUnwindowedResultBitForBit()
    {
        string[] texts = ["a gorgeous , witty movie", "bleak and desperate", Sentence];
        using var plain = TransformerModel.Load(Sst2, Options(OverflowMode.Truncate, normalize: true));
        using var windowed = TransformerModel.Load(Sst2, Options(OverflowMode.Window, normalize: true));
        var a = plain.Classify(texts);
        var b = windowed.Classify(texts);
        for (int i = 0; i < texts.Length; i++) { Assert.Equal(a[i].Logits, b[i].Logits); Assert.Equal(1, b[i].Windows); }
        var ea = plain.Embed(texts);
        var eb = windowed.Embed(texts);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(ea[i], eb[i]);
    }

    /// <summary>The windows of <paramref name="text"/> as Hugging Face's tokenizer makes them (return_overflowing_tokens,
    /// stride), and each window's weight: its tokens, the shared ones split — first ⌈overlap/2⌉ to the earlier window.</summary>
    private static (Encoding[] Windows, int[] Weights) ExpectedWindows(ITokenizer tokenizer, string text)
    {
        var full = tokenizer.Encode(text);
        int content = full.Length - 2, room = MaxLength - 2, step = room - Stride;
        var windows = new List<Encoding>();
        var starts = new List<int>();
        for (int start = 0; ; start += step)
        {
            int stop = Math.Min(start + room, content);
            starts.Add(start);
            // [CLS] tokens[start..stop) [SEP], built directly from the full encoding
            int[] Take(int[] source) => [source[0], .. source[(1 + start)..(1 + stop)], source[^1]];
            windows.Add(new Encoding(Take(full.Ids), Take(full.TypeIds), [full.Tokens[0], .. full.Tokens[(1 + start)..(1 + stop)], full.Tokens[^1]],
                [full.Offsets[0], .. full.Offsets[(1 + start)..(1 + stop)], full.Offsets[^1]], Take(full.SequenceIds), true));
            if (stop == content) break;
        }
        var weights = new int[windows.Count];
        for (int p = 0; p < content; p++)
        {
            int k = starts.FindLastIndex(s => s <= p); // the latest window holding p
            if (k > 0 && p < starts[k - 1] + room)      // also in the previous window: the overlap is split
            {
                int overlapStart = starts[k], overlap = starts[k - 1] + room - overlapStart;
                if (p - overlapStart < (overlap + 1) / 2) k--;
            }
            weights[k]++;
        }
        return (windows.ToArray(), weights);
    }

    [Fact]
    public void LongTextClassificationIsTheTokenWeightedMeanOfTheWindowsLogits()
    {
        string text = LongText();
        using var model = TransformerModel.Load(Sst2, Options(OverflowMode.Window));
        var (windows, weights) = ExpectedWindows(model.Tokenizer, text);
        Assert.Equal(model.Tokenizer.Encode(text).Length - 2, weights.Sum());
        var result = model.Classify([text])[0];
        Assert.Equal(windows.Length, result.Windows);
        Assert.False(result.Truncated);

        var perWindow = model.Encode(PostProcessor.Pad(windows, model.Tokenizer.PadId)).Logits!;
        int c = model.NumLabels;
        var expected = new float[c];
        for (int j = 0; j < c; j++)
        {
            double sum = 0;
            for (int k = 0; k < windows.Length; k++) sum += weights[k] * (double)perWindow[k * c + j];
            expected[j] = (float)(sum / weights.Sum());
        }
        output.WriteLine($"{windows.Length} windows, weights {string.Join(",", weights)}; logits {string.Join(", ", result.Logits)}");
        for (int j = 0; j < c; j++) Assert.Equal(expected[j], result.Logits[j], 1e-5f);
        var softmax = new float[c];
        NativeTransformer.Models.SequenceScoring.Apply(ScoreFunction.Softmax, result.Logits, softmax);
        Assert.Equal(softmax, result.Scores);
    }

    [Fact]
    public void LongTextEmbeddingIsTheNormalisedTokenWeightedMeanOfTheWindowsMeanPooling()
    {
        string text = LongText();
        using var model = TransformerModel.Load(Sst2, Options(OverflowMode.Window, normalize: true));
        var (windows, weights) = ExpectedWindows(model.Tokenizer, text);
        var result = model.EmbedResults([text])[0];
        Assert.Equal(windows.Length, result.Windows);

        // Mean pooling of each window's last hidden state over its own tokens, computed here.
        var encoded = model.Encode(PostProcessor.Pad(windows, model.Tokenizer.PadId));
        var last = encoded.HiddenStates[^1];
        int h = encoded.HiddenSize, seq = encoded.Batch.SeqLen;
        var expected = new double[h];
        for (int k = 0; k < windows.Length; k++)
            for (int t = 0; t < windows[k].Length; t++)
                for (int j = 0; j < h; j++) expected[j] += weights[k] * (double)last[(k * seq + t) * h + j] / windows[k].Length;
        double norm = Math.Sqrt(expected.Sum(v => v * v));
        float worst = 0;
        for (int j = 0; j < h; j++) worst = Math.Max(worst, Math.Abs((float)(expected[j] / norm) - result.Vector[j]));
        output.WriteLine($"{windows.Length} windows; embedding max|diff| vs independent weighted mean = {worst:E2}");
        Assert.True(worst < 1e-5f, $"max|diff| {worst}");
    }

    [Fact]
    public void NerFindsEntitiesInTheSecondHalfOfALongTextAtTheirOffsets()
    {
        const string filler = "The weather was mild and the meeting lasted most of the afternoon . ";
        const string names = "Angela Merkel met Barack Obama in Berlin .";
        // ~2,500 filler tokens, the names, as much filler again, the names near the end.
        string text = string.Concat(Enumerable.Repeat(filler, 180)) + names + " " + string.Concat(Enumerable.Repeat(filler, 150)) + names;
        using var windowed = TransformerModel.Load(Ner, Options(OverflowMode.Window));
        using var plain = TransformerModel.Load(Ner, new LoadOptions { MaxLength = MaxLength });
        var tagged = windowed.TagEntities([text])[0];
        output.WriteLine($"{tagged.Windows} windows: " + string.Join("; ", tagged.Entities.Select(e => $"{e.Label} '{e.Word}' {e.Start}-{e.End} {e.Score:F3}")));
        Assert.False(tagged.Truncated);
        var (windows, _) = ExpectedWindows(windowed.Tokenizer, text);
        Assert.Equal(windows.Length, tagged.Windows);
        foreach (var e in tagged.Entities) Assert.Equal(text[e.Start..e.End], e.Word);
        // Both mentions of Berlin, the second in the last window, at their offsets in the whole text.
        foreach (int at in new[] { text.IndexOf("Berlin", StringComparison.Ordinal), text.LastIndexOf("Berlin", StringComparison.Ordinal) })
            Assert.Contains(tagged.Entities, x => x.Start == at && x.End == at + 6 && x.Label == "LOC");
        Assert.True(text.LastIndexOf("Berlin", StringComparison.Ordinal) > text.Length * 9 / 10);

        // The last window tagged on its own (its exact tokens, probabilities from Encode): every entity it has past the
        // end of the window before it is in the merged result unchanged.
        var last = windows[^1];
        var logits = windowed.Encode(PostProcessor.Pad([last], windowed.Tokenizer.PadId)).Logits!;
        int c = windowed.NumLabels;
        for (int t = 0; t < last.Length; t++) NativeTransformer.Kernels.Softmax.MaskedRow(logits.AsSpan(t * c, c), c);
        var own = EntityAggregator.Aggregate(text, last, logits.AsSpan(0, last.Length * c), windowed.TokenLabels(), EntityAggregation.Simple,
            "##", windowed.Tokenizer.TryGetId("[UNK]", out int unk) ? unk : null);
        int previousEnd = windows[^2].Offsets[^2].End;
        var tail = own.Where(e => e.Start >= previousEnd).ToArray();
        Assert.NotEmpty(tail);
        foreach (var e in tail) Assert.Contains(e, tagged.Entities);

        // Truncated, the same text says so and has nothing past the cut.
        var cut = plain.TagEntities([text])[0];
        Assert.True(cut.Truncated);
        Assert.DoesNotContain(cut.Entities, x => x.Start > text.Length / 2);
    }

    [Fact]
    public void NerWindowsWithAggregationNoneAreRefusedAsThePipelineDoes()
    {
        using var model = TransformerModel.Load(Ner, Options(OverflowMode.Window));
        var e = Assert.Throws<InputException>(() => model.TagEntities([LongText(20)], EntityAggregation.None));
        Assert.Contains("aggregation other than none", e.Message);
        Assert.NotEmpty(model.TagEntities(["Angela Merkel met Barack Obama in Berlin ."], EntityAggregation.None)[0].Entities);
    }

    [Fact]
    public void OwnedTokensSplitEachOverlapOnceFirstHalfRoundedUpToTheEarlierWindow()
    {
        Assert.Equal([10], WindowPooling.OwnedTokens([(0, 10)]));
        // room 10, stride 3: windows [0,10) [7,17) [14,20); overlaps of 3 → 2 to the earlier, 1 to the later.
        Assert.Equal([9, 7, 4], WindowPooling.OwnedTokens([(0, 10), (7, 17), (14, 20)]));
        // stride 0: no overlap, each window owns its tokens.
        Assert.Equal([10, 10, 5], WindowPooling.OwnedTokens([(0, 10), (10, 20), (20, 25)]));
        // stride 4: an even overlap is halved.
        Assert.Equal([8, 6, 6], WindowPooling.OwnedTokens([(0, 10), (6, 16), (12, 20)]));
    }

    [Fact]
    public void OverlappingEntitiesMergeByHuggingFacesRule()
    {
        TaggedEntity E(string label, float score, int start, int end) => new(label, score, new string('x', end - start), start, end);
        var merged = WindowPooling.MergeOverlapping([
            E("PER", 0.9f, 0, 5),     // window 1
            E("LOC", 0.8f, 20, 26),   // window 1, cut at its edge
            E("LOC", 0.7f, 20, 30),   // window 2: starts inside the previous one and is longer → replaces it
            E("ORG", 0.6f, 40, 45),   // window 2
            E("ORG", 0.95f, 40, 45),  // window 3: as long, higher score → replaces it
            E("MISC", 0.99f, 42, 44), // window 3: starts inside, shorter → dropped
            E("PER", 0.5f, 50, 55),
        ]);
        Assert.Equal([("PER", 0), ("LOC", 20), ("ORG", 40), ("PER", 50)], merged.Select(e => (e.Label, e.Start)));
        Assert.Equal(30, merged[1].End);
        Assert.Equal(0.95f, merged[2].Score);
    }

    [Fact]
    public void WindowModeWindowsTheSecondTextOfAPair()
    {
        using var model = TransformerModel.Load(Sst2, Options(OverflowMode.Window));
        var r = model.Classify([new TextInput("is it good ?", LongText(20))])[0];
        Assert.True(r.Windows > 1);
        Assert.Throws<InputException>(() => model.Classify([new TextInput(LongText(20), "short")]));
    }
}
