using System.Text.Json.Nodes;
using NativeTransformer.Models;

namespace NativeTransformer.Tests.Models;

/// <summary>Sequence scores by config (problem_type, label count, CrossEncoder activation) and reranking, against the
/// PyTorch reference of the cross-encoder (logits [batch, 1], scores_sigmoid [batch]).</summary>
public class SequenceScoresTests
{
    internal const string CrossEncoder = "bert-mini-cross-encoder";
    private static readonly LoadOptions At64 = new() { MaxLength = 64, Threads = 1 };   // the reference's max_length
    /// <summary>Row 22 cuts BOTH segments of a pair to an odd budget: the reference applies the Rust (fast) tokenizer's
    /// longest_first arithmetic there, the tokenizer here the slow one's (which the real-model references use), so our own
    /// ids differ on that row only. Compared on the reference's ids instead.</summary>
    internal const int FastTruncationRow = 22;

    [Fact]
    public void CrossEncoderScoresAreTheSigmoidOfTheLogitAsTheReference()
    {
        using var reference = ReferenceSet.Load(CrossEncoder);
        using var model = TransformerModel.Load(TestPaths.Model(CrossEncoder), At64);
        Assert.Equal(ScoreFunction.Sigmoid, model.ScoreFunction);
        var expectedScores = reference.Float("scores_sigmoid");
        var expectedLogits = reference.Float("logits");

        // Our own tokenizer (pairs, longest-first truncation) gives the reference's ids (but the row noted above)...
        var ours = model.Encode(reference.Inputs);
        var refIds = reference.Batch().InputIds;
        int seq = ours.Batch.SeqLen;
        Assert.Equal(64, seq);
        for (int i = 0; i < reference.Inputs.Length; i++)
            if (i != FastTruncationRow) Assert.Equal(refIds.AsSpan(i * seq, seq).ToArray(), ours.Batch.InputIds.AsSpan(i * seq, seq).ToArray());
        // ...and scores within 1e-4 through Classify and through Encode (the [batch] scores ntr encode writes).
        var classified = model.Classify(reference.Inputs);
        for (int i = 0; i < classified.Length; i++)
        {
            if (i == FastTruncationRow) continue;
            Assert.Equal(ScoreFunction.Sigmoid, classified[i].Function);
            Assert.Single(classified[i].Logits);
            Assert.Equal(expectedLogits[i], classified[i].Logits[0], 1e-4f);
            Assert.Equal(expectedScores[i], classified[i].Score, 1e-4f);
            Assert.Equal(classified[i].Score, Assert.Single(classified[i].Scores));
        }
        for (int i = 0; i < expectedScores.Length; i++)
            if (i != FastTruncationRow) Assert.Equal(expectedScores[i], ours.Scores![i], 1e-4f);
        Assert.True(Diff.MaxAbs(expectedScores, model.Encode(reference.Batch()).Scores!) < 1e-4f);
        // Not the old softmax over one logit (always 1): the reference scores spread.
        Assert.True(expectedScores.Max() - expectedScores.Min() > 0.05f);
    }

    [Fact]
    public void RerankOrderIsTheReferenceScoresSorted()
    {
        using var reference = ReferenceSet.Load(CrossEncoder);
        using var model = TransformerModel.Load(TestPaths.Model(CrossEncoder), At64);
        var scores = reference.Float("scores_sigmoid");
        int groups = 0;
        foreach (var group in reference.Inputs.Select((input, i) => (input, i)).Where(p => p.i != FastTruncationRow)
                     .GroupBy(p => p.input.Text).Where(g => g.Count() > 1))
        {
            groups++;
            var docs = group.Select(p => p.input.TextPair!).ToArray();
            var expected = group.Select((p, j) => (j, score: scores[p.i])).OrderByDescending(p => p.score).ToArray();
            for (int k = 1; k < expected.Length; k++)
                Assert.True(expected[k - 1].score - expected[k].score > 1e-3f, "reference scores too close to order within the tolerance");
            var ranked = model.Rerank(group.Key, docs);
            Assert.Equal(expected.Select(p => p.j), ranked.Select(r => r.Index));
            for (int k = 0; k < ranked.Length; k++)
            {
                Assert.Equal(expected[k].score, ranked[k].Score, 1e-4f);
                Assert.Equal(docs[ranked[k].Index], ranked[k].Document);
            }
            var top = model.Rerank(group.Key, docs, topK: 1);
            Assert.Equal(ranked[0], Assert.Single(top));
        }
        Assert.True(groups >= 3);
    }

    [Fact]
    public void RerankRefusesWhatIsNotACrossEncoderAndBadArguments()
    {
        using (var sst = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2")))
            Assert.Contains("2 labels", Assert.Throws<NativeTransformerException>(() => sst.Rerank("q", ["d"])).Message);
        using (var mlm = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm")))
            Assert.Contains("no sequence-classification head", Assert.Throws<NativeTransformerException>(() => mlm.Rerank("q", ["d"])).Message);
        using var model = TransformerModel.Load(TestPaths.Model(CrossEncoder), At64);
        Assert.Throws<InputException>(() => model.Rerank("", ["d"]));
        Assert.Throws<InputException>(() => model.Rerank("q", ["d"], topK: 0));
        Assert.Throws<InputException>(() => model.Rerank("q", ["d", null!]));
        Assert.Empty(model.Rerank("q", []));
        Assert.Equal(2, model.Rerank("q", ["a", "b"], topK: 5).Length);
    }

    [Fact]
    public void TwoLabelsScoreBySoftmaxByDefault()
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"));
        var c = model.Classify(["a gorgeous , witty movie"])[0];
        Assert.Equal(ScoreFunction.Softmax, c.Function);
        Assert.Equal(1f, c.Scores.Sum(), 1e-6f);
        Assert.Equal(c.Scores.Max(), c.Score);
        Assert.Null(model.Encode(["x"]).Scores);   // scores [batch] only for one-logit heads
    }

    [Fact]
    public void MultiLabelScoresOneSigmoidPerLabel()
    {
        using var folder = WithConfig("bert-tiny-sst2", c => c["problem_type"] = "multi_label_classification");
        using var model = TransformerModel.Load(folder.Path);
        foreach (var c in model.Classify(["a gorgeous , witty movie", "dull and lifeless"]))
        {
            Assert.Equal(ScoreFunction.Sigmoid, c.Function);
            Assert.Equal(2, c.Scores.Length);
            for (int j = 0; j < 2; j++) Assert.Equal(1 / (1 + Math.Exp(-c.Logits[j])), c.Scores[j], 1e-6);
            Assert.Equal(c.Scores[c.LabelId], c.Score);
            Assert.NotEqual(1f, c.Scores.Sum(), 1e-3f);   // independent, not a distribution
        }
    }

    [Fact]
    public void RegressionScoresAreTheRawValues()
    {
        using (var folder = WithConfig("bert-tiny-sst2", c => c["problem_type"] = "regression"))
        using (var model = TransformerModel.Load(folder.Path))
        {
            var c = model.Classify(["a gorgeous , witty movie"])[0];
            Assert.Equal(ScoreFunction.Identity, c.Function);
            Assert.Equal(c.Logits, c.Scores);
            Assert.Equal(c.Logits[c.LabelId], c.Score);
        }
        using (var folder = WithConfig(CrossEncoder, c => c["problem_type"] = "regression"))
        using (var model = TransformerModel.Load(folder.Path))
        {
            var c = model.Classify([new TextInput("a man plays", "a person plays")])[0];
            Assert.Equal(c.Logits[0], c.Score);
            Assert.Equal(c.Logits, model.Encode([new TextInput("a man plays", "a person plays")]).Scores);
        }
    }

    [Theory]
    [InlineData("sbert_ce_default_activation_function", "torch.nn.modules.linear.Identity", ScoreFunction.Identity)]
    [InlineData("sbert_ce_default_activation_function", "torch.nn.Sigmoid", ScoreFunction.Sigmoid)]
    [InlineData("sentence_transformers", "torch.nn.modules.linear.Identity", ScoreFunction.Identity)]
    [InlineData(null, null, ScoreFunction.Sigmoid)]   // one logit without an activation key: sentence-transformers' default
    public void OneLogitFollowsTheCrossEncoderActivation(string? key, string? value, ScoreFunction expected)
    {
        using var folder = WithConfig(CrossEncoder, c =>
        {
            c.Remove("sbert_ce_default_activation_function");
            if (key == "sentence_transformers") c[key] = new JsonObject { ["activation_fn"] = value, ["version"] = "4.1.0" };
            else if (key is not null) c[key] = value;
        });
        using var model = TransformerModel.Load(folder.Path);
        var c = model.Classify([new TextInput("who wrote hamlet", "Hamlet is a tragedy by Shakespeare.")])[0];
        Assert.Equal(expected, c.Function);
        Assert.Equal(expected == ScoreFunction.Identity ? c.Logits[0] : (float)(1 / (1 + Math.Exp(-c.Logits[0]))), c.Score, 1e-6f);
    }

    [Theory]
    [InlineData("problem_type", "ordinal_regression", "problem_type \"ordinal_regression\"")]
    [InlineData("sbert_ce_default_activation_function", "torch.nn.modules.activation.Tanh", "sbert_ce_default_activation_function")]
    public void UnknownScoreSettingsAreConfigErrors(string key, string value, string message)
    {
        using var folder = WithConfig(CrossEncoder, c => c[key] = value);
        var e = Assert.Throws<ModelConfigException>(() => TransformerModel.Load(folder.Path));
        Assert.Contains(message, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    /// <summary>A copy of a shared model folder with config.json edited.</summary>
    internal static TempModelFolder WithConfig(string model, Action<JsonObject> edit)
    {
        var folder = TempModelFolder.CopyOf(model);
        var config = JsonNode.Parse(File.ReadAllText(folder.FilePath("config.json")))!.AsObject();
        edit(config);
        File.WriteAllText(folder.FilePath("config.json"), config.ToJsonString());
        return folder;
    }
}
