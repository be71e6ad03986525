using NativeTransformer.Tests.Models;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tasks;

/// <summary>Extractive QA on bert-mini-qa (BertForQuestionAnswering, random weights): logits against PyTorch, answers
/// against a plain re-derivation of the pipeline's rules, long contexts, and bad input.</summary>
public class QuestionAnsweringTests(ITestOutputHelper output)
{
    private static readonly string QaModel = TestPaths.Model("bert-mini-qa");

    [Fact]
    public void StartAndEndLogitsMatchPyTorch()
    {
        using var reference = ReferenceSet.Load("bert-mini-qa");
        using var model = TransformerModel.Load(QaModel, new LoadOptions { MaxLength = reference.MaxLength });
        Assert.True(model.HasQuestionAnswering);
        // Our tokenizer gives the reference's ids (row 11 is cut to max_length 64).
        var ours = model.Encode(reference.Inputs);
        var expectedIds = reference.Long("input_ids");
        Assert.Equal(expectedIds.Select(v => (int)v), ours.Batch.InputIds);

        var result = model.Encode(reference.Batch());
        var mask = reference.Long("attention_mask");
        foreach (var (name, actual) in new[] { ("start_logits", result.StartLogits), ("end_logits", result.EndLogits) })
        {
            Assert.NotNull(actual);
            float d = Diff.MaxAbsMasked(reference.Float(name), actual!, mask, 1);
            output.WriteLine($"{name}: max|diff| = {d:E2}");
            Assert.True(d < 1e-4f, $"{name} max|diff| {d}");
        }
        // The encode path from text gives the same logits.
        Assert.True(Diff.MaxAbsMasked(reference.Float("start_logits"), ours.StartLogits!, mask, 1) < 1e-4f);
    }

    [Fact]
    public void AnswersFollowThePipelineRulesOnTheReferenceLogits()
    {
        using var reference = ReferenceSet.Load("bert-mini-qa");
        using var model = TransformerModel.Load(QaModel);
        var start = reference.Float("start_logits");
        var end = reference.Float("end_logits");
        int seq = (int)reference.Outputs.GetInfo("start_logits").Shape[1];
        for (int r = 0; r < 9; r++) // the rows with a question and a context that fit one window
        {
            var (question, context) = (reference.Inputs[r].Text, reference.Inputs[r].TextPair!);
            var enc = model.Tokenizer.Encode(question, context);
            var expected = Naive(enc, start.AsSpan(r * seq, enc.Length).ToArray(), end.AsSpan(r * seq, enc.Length).ToArray(), maxAnswerLen: 15);
            var (charStart, charEnd) = WholeWords(enc, expected.S, expected.E);
            var answer = Assert.Single(model.AnswerQuestion(question, context));
            output.WriteLine($"{r}: \"{answer.Answer}\" {answer.Score:G6} [{answer.Start}, {answer.End})");
            Assert.Equal((charStart, charEnd), (answer.Start, answer.End));
            Assert.Equal(context[charStart..charEnd], answer.Answer);
            Assert.Equal(expected.Score, answer.Score, 4);

            var top = model.AnswerQuestion(question, context, new QuestionAnsweringOptions { TopK = 5, MaxAnswerLen = 4 });
            Assert.Equal(5, top.Length);
            for (int i = 1; i < top.Length; i++) Assert.True(top[i - 1].Score >= top[i].Score);
            Assert.All(top, a => Assert.Equal(context[a.Start..a.End], a.Answer));
            var noAnswer = model.AnswerQuestion(question, context, new QuestionAnsweringOptions { HandleImpossibleAnswer = true, TopK = 20 });
            var empty = Assert.Single(noAnswer, a => a.Answer == "");
            Assert.Equal((0, 0), (empty.Start, empty.End));
            Assert.Equal(Softmax(enc, start.AsSpan(r * seq).ToArray())[0] * Softmax(enc, end.AsSpan(r * seq).ToArray())[0], empty.Score, 4);
        }
    }

    [Fact]
    public void LongContextIsReadInOverlappingWindows()
    {
        using var model = TransformerModel.Load(QaModel);
        var (question, context) = LongInput();
        var full = model.Tokenizer.Encode(question, context);
        Assert.True(full.Length > 384, $"{full.Length} tokens");
        var windows = OverflowWindows.Split(full, segment: 1, maxLength: 384, stride: 128);
        Assert.True(windows.Length >= 3, $"{windows.Length} windows");
        int questionTokens = full.SequenceIds.Count(s => s == 0), room = 384 - questionTokens - 3;
        var contextTokens = Enumerable.Range(0, full.Length).Where(i => full.SequenceIds[i] == 1).ToArray();
        for (int k = 0; k < windows.Length; k++)
        {
            var w = windows[k];
            Assert.True(w.Length <= 384);
            Assert.Equal(full.Ids.Take(questionTokens + 2), w.Ids.Take(questionTokens + 2)); // [CLS] question [SEP]
            Assert.Equal(full.Ids[^1], w.Ids[^1]);                                              // [SEP]
            Assert.Equal(Enumerable.Range(0, w.Length).Select(i => i < questionTokens + 2 ? 0 : 1), w.TypeIds); // BERT: 0 up to the first [SEP], then 1
            var body = Enumerable.Range(0, w.Length).Where(i => w.SequenceIds[i] == 1).ToArray();
            int first = k * (room - 128);
            Assert.Equal(contextTokens.Skip(first).Take(room).Select(i => full.Ids[i]), body.Select(i => w.Ids[i]));
            Assert.Equal(contextTokens.Skip(first).Take(room).Select(i => full.Offsets[i]), body.Select(i => w.Offsets[i]));
        }
        Assert.Equal(full.Offsets[contextTokens[^1]], windows[^1].Offsets[^2]); // the last window ends at the last context token

        // Logits that point at "Zanzibar", which only the last window holds: the answer comes from there, at its place in the context.
        int target = context.IndexOf("Zanzibar", StringComparison.Ordinal);
        var logits = windows.Select(w =>
        {
            var s = new float[w.Length];
            var e = new float[w.Length];
            for (int i = 0; i < w.Length; i++)
                if (w.SequenceIds[i] == 1 && w.Offsets[i].Start == target) { s[i] = 10; e[i] = 10; }
            return (s, e);
        }).ToArray();
        Assert.Equal(new[] { false, true }, new[] { logits[0].s.Any(v => v > 0), logits[^1].s.Any(v => v > 0) });
        var best = TransformerModel.RankAnswers(context, windows, logits, new QuestionAnsweringOptions(), TransformerModel.ContinuationTest(model.Tokenizer))[0];
        Assert.Equal(("Zanzibar", target, target + 8), (best.Answer, best.Start, best.End));

        // The model itself: the best answer over all windows, each window scored alone.
        var answer = Assert.Single(model.AnswerQuestion(question, context));
        (double Score, int Start, int End) expected = (-1, 0, 0);
        foreach (var w in windows)
        {
            var r = model.Encode(PostProcessor.Pad([w], model.Tokenizer.PadId));
            var span = Naive(w, r.StartLogits!, r.EndLogits!, 15);
            var (cs, ce) = WholeWords(w, span.S, span.E);
            if (span.Score > expected.Score) expected = (span.Score, cs, ce);
        }
        output.WriteLine($"long context ({full.Length} tokens, {windows.Length} windows): \"{answer.Answer}\" {answer.Score:G6}");
        Assert.Equal((expected.Start, expected.End), (answer.Start, answer.End));
        Assert.Equal(expected.Score, answer.Score, 4);
    }

    [Fact]
    public void BadInputGetsClearErrors()
    {
        using var model = TransformerModel.Load(QaModel);
        Assert.Contains("question", Assert.Throws<InputException>(() => model.AnswerQuestion("", "some context")).Message);
        Assert.Contains("context", Assert.Throws<InputException>(() => model.AnswerQuestion("why?", "")).Message);
        Assert.Contains("no tokens", Assert.Throws<InputException>(() => model.AnswerQuestion("why?", "   \t ")).Message);
        Assert.Throws<InputException>(() => model.AnswerQuestion("why?", "because", new QuestionAnsweringOptions { TopK = 0 }));
        Assert.Throws<InputException>(() => model.AnswerQuestion("why?", "because", new QuestionAnsweringOptions { MaxAnswerLen = 0 }));
        Assert.Throws<InputException>(() => model.AnswerQuestion("why?", "because", new QuestionAnsweringOptions { MaxSeqLen = 600 }));
        Assert.Throws<InputException>(() => model.AnswerQuestion("why?", "because", new QuestionAnsweringOptions { MaxSeqLen = 64, DocStride = 65 }));
        // A question that leaves no more context room than the stride: the windows could not advance.
        var (question, context) = LongInput();
        var e = Assert.Throws<InputException>(() => model.AnswerQuestion(question, context, new QuestionAnsweringOptions { MaxSeqLen = 40, DocStride = 30 }));
        Assert.Contains("stride", e.Message);

        using var classifier = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"));
        Assert.False(classifier.HasQuestionAnswering);
        Assert.Contains("no question-answering head", Assert.Throws<NativeTransformerException>(() => classifier.AnswerQuestion("why?", "because")).Message);
        Assert.Null(classifier.Encode(["a text"]).StartLogits);
    }

    [Fact]
    public void QuestionAnsweringCheckpointWithoutItsHeadIsRefused()
    {
        using (var folder = TempModelFolder.CopyOf("bert-mini-qa"))
        {
            CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name.StartsWith("qa_outputs", StringComparison.Ordinal) ? null : CheckpointEditor.Keep(info, data));
            var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
            Assert.Equal("qa_outputs.weight", e.Key);
            Assert.Contains("BertForQuestionAnswering", e.Message);
        }
        using (var folder = TempModelFolder.CopyOf("bert-mini-qa"))
        {
            CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name == "qa_outputs.weight"
                ? TensorToWrite.FromFloat32(info.Name, [3, 32], new float[96]) : info.Name == "qa_outputs.bias" ? null : CheckpointEditor.Keep(info, data),
                TensorToWrite.FromFloat32("qa_outputs.bias", [3], new float[3]));
            var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
            Assert.Equal("qa_outputs.weight", e.Key);
            Assert.Contains("[2, 32]", e.Message);
        }
        Assert.Contains("question-answering", TransformerModel.Inspect(QaModel).OutputHeads);
    }

    internal static (string Question, string Context) LongInput()
    {
        var filler = string.Join(" ", Enumerable.Range(0, 90).Select(i => $"Sentence {i} talks about the weather and the harbour."));
        return ("Where is the old treasure buried?", filler + " The old treasure is buried in Zanzibar, near the coast.");
    }

    /// <summary>The pipeline's scoring written out plainly for one window: softmax over the context tokens and [CLS],
    /// then the best p_start[s]·p_end[e] with both in the context, s ≤ e, e − s &lt; maxAnswerLen.</summary>
    private static (int S, int E, double Score) Naive(Encoding w, float[] start, float[] end, int maxAnswerLen)
    {
        double[] ps = Softmax(w, start), pe = Softmax(w, end);
        (int, int, double) best = (-1, -1, -1);
        for (int s = 0; s < w.Length; s++)
            for (int e = s; e < w.Length && e - s < maxAnswerLen; e++)
                if (w.SequenceIds[s] == 1 && w.SequenceIds[e] == 1 && ps[s] * pe[e] > best.Item3) best = (s, e, ps[s] * pe[e]);
        return best;
    }

    private static double[] Softmax(Encoding w, float[] logits)
    {
        var allowed = Enumerable.Range(0, w.Length).Where(i => w.SequenceIds[i] == 1 || i == 0).ToArray();
        double max = allowed.Max(i => (double)logits[i]);
        double sum = allowed.Sum(i => Math.Exp(logits[i] - max));
        var p = new double[w.Length];
        foreach (int i in allowed) p[i] = Math.Exp(logits[i] - max) / sum;
        return p;
    }

    /// <summary>Characters of the whole words (WordPiece: a "##" token continues the previous one) of tokens s..e.</summary>
    private static (int Start, int End) WholeWords(Encoding w, int s, int e)
    {
        while (s > 0 && w.SequenceIds[s - 1] == 1 && w.Tokens[s].StartsWith("##", StringComparison.Ordinal)) s--;
        while (e + 1 < w.Length && w.SequenceIds[e + 1] == 1 && w.Tokens[e + 1].StartsWith("##", StringComparison.Ordinal)) e++;
        return (w.Offsets[s].Start, w.Offsets[e].End);
    }
}
