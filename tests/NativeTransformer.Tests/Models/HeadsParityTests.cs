using NativeTransformer.Models;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>Masked-LM logits and sentence embeddings against the PyTorch reference.</summary>
public class HeadsParityTests(ITestOutputHelper output)
{
    [Fact]
    public void MaskedLmLogitsMatchPyTorch()
    {
        using var reference = ReferenceSet.Load("bert-tiny-mlm");
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"), new LoadOptions { MaxLength = reference.MaxLength });
        Assert.True(model.HasMaskedLm);
        var rows = model.Tokenize(reference.Inputs);

        // mlm_logits_row0: logits of input 0 at its first 10 positions.
        var row0 = reference.Float("mlm_logits_row0");
        int v = model.Config.VocabSize, n = row0.Length / v;
        var ours = model.MaskedLmLogits(rows[0], Enumerable.Range(0, n).ToArray());
        float worst = 0;
        for (int p = 0; p < n; p++) worst = Math.Max(worst, Diff.MaxAbs(row0.AsSpan(p * v, v), ours[p]));
        output.WriteLine($"mlm_logits_row0: max|diff| = {worst:E2}");
        Assert.True(worst < 1e-4f, $"mlm_logits_row0 max|diff| {worst}");

        // mlm_logits_at_mask: [1, V] at mask_positions (row, position).
        var at = reference.Long("mask_positions");
        var atMask = model.MaskedLmLogits(rows[at[0]], [(int)at[1]])[0];
        float d = Diff.MaxAbs(reference.Float("mlm_logits_at_mask"), atMask);
        output.WriteLine($"mlm_logits_at_mask: max|diff| = {d:E2}");
        Assert.True(d < 1e-4f);

        // mlm_top5_ids: the top-5 ids at every real position of every row.
        var top5 = reference.Long("mlm_top5_ids");
        var mask = reference.Long("attention_mask");
        int seq = mask.Length / rows.Length, mismatches = 0, compared = 0;
        for (int r = 0; r < rows.Length; r += 7)
        {
            var logits = model.MaskedLmLogits(rows[r], Enumerable.Range(0, rows[r].Length).ToArray());
            for (int p = 0; p < rows[r].Length; p++)
            {
                var best = Enumerable.Range(0, v).OrderByDescending(i => logits[p][i]).Take(5).Select(i => (long)i);
                compared++;
                if (!best.SequenceEqual(top5.Skip((r * seq + p) * 5).Take(5))) mismatches++;
            }
        }
        output.WriteLine($"mlm top-5 ids: {compared - mismatches}/{compared} positions identical");
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void FillMaskPredictsTheReferenceTopToken()
    {
        using var reference = ReferenceSet.Load("bert-tiny-mlm");
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-mlm"));
        var at = reference.Long("mask_positions");
        var text = reference.Inputs[at[0]];
        Assert.Null(text.TextPair);
        var predictions = model.FillMask(text.Text, topK: 3);
        var expectedTop = TopId(reference.Float("mlm_logits_at_mask"));
        var hit = Assert.Single(predictions, p => p.Position == at[1]);
        Assert.Equal(3, hit.Candidates.Length);
        Assert.Equal(expectedTop, hit.Candidates[0].TokenId);
        Assert.InRange(hit.Candidates.Sum(c => c.Score), 0f, 1.0001f);
        Assert.True(hit.Candidates[0].Score >= hit.Candidates[1].Score);
    }

    /// <summary>A sentence-transformers folder (bert-tiny-mlm + modules.json/1_Pooling) gives the reference mean-pooled, L2-normalised embeddings.</summary>
    [Theory]
    [InlineData(PoolingMode.Mean, true)]
    [InlineData(PoolingMode.Cls, false)]
    [InlineData(PoolingMode.Max, true)]
    public void SentenceEmbeddingsFollowThePoolingConfig(PoolingMode mode, bool normalize)
    {
        using var reference = ReferenceSet.Load("bert-tiny-mlm");
        using var folder = TempModelFolder.CopyOf("bert-tiny-mlm");
        folder.WriteSentenceTransformers(mode, normalize);
        using var model = TransformerModel.Load(folder.Path, new LoadOptions { MaxLength = reference.MaxLength });
        Assert.True(model.HasPoolingConfig);
        var result = model.Encode(reference.Inputs);
        Assert.NotNull(result.Embeddings);
        var embedded = model.Embed(reference.Inputs);

        var last = reference.Float("hidden_states.2");
        var mask = reference.Long("attention_mask");
        int h = model.Config.HiddenSize, seq = result.Batch.SeqLen;
        for (int b = 0; b < reference.Inputs.Length; b++)
        {
            var expected = new double[h];
            int valid = 0;
            for (int t = 0; t < seq; t++)
            {
                if (mask[b * seq + t] == 0 || (mode == PoolingMode.Cls && t > 0)) continue;
                for (int i = 0; i < h; i++)
                {
                    double x = last[(b * seq + t) * h + i];
                    expected[i] = mode == PoolingMode.Max ? (valid == 0 ? x : Math.Max(expected[i], x)) : expected[i] + x;
                }
                valid++;
            }
            if (mode == PoolingMode.Mean) for (int i = 0; i < h; i++) expected[i] /= valid;
            if (normalize) { double norm = Math.Sqrt(expected.Sum(x => x * x)); for (int i = 0; i < h; i++) expected[i] /= norm; }
            var exp = expected.Select(x => (float)x).ToArray();
            Assert.True(Diff.MaxAbs(exp, result.Embeddings.AsSpan(b * h, h)) < 1e-4f, $"row {b}");
            Assert.True(Diff.MaxAbs(exp, embedded[b]) < 1e-4f, $"embed row {b}");
        }
    }

    private static int TopId(float[] logits) => Array.IndexOf(logits, logits.Max());
}
