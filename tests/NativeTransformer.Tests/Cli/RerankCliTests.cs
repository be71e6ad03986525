using System.Text.Json;
using NativeTransformer.Tests.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Cli;

/// <summary>ntr rerank, ntr encode's [batch] scores and ntr classify's scores for a cross-encoder, against the PyTorch reference.</summary>
public class RerankCliTests
{
    private static readonly string CrossEncoder = TestPaths.Model(SequenceScoresTests.CrossEncoder);

    [Fact]
    public void EncodeWritesTheSigmoidScoresOfTheReference()
    {
        using var reference = ReferenceSet.Load(SequenceScoresTests.CrossEncoder);
        using var dir = new TempDir();
        var items = reference.Inputs.Select(i => new Dictionary<string, string?> { ["text"] = i.Text, ["text_pair"] = i.TextPair }).ToArray();
        string input = dir.Write("in.json", JsonSerializer.Serialize(items));
        var r = CliRunner.Run("encode", "--model", CrossEncoder, "--input", input, "--output", dir.File("out.safetensors"), "--max-length", "64", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var file = SafetensorsFile.Open(dir.File("out.safetensors"));
        Assert.Equal([(long)items.Length], file.GetInfo("scores").Shape);
        float[] scores = file.GetFloat32("scores").ToArray(), logits = file.GetFloat32("logits").ToArray();
        float[] expectedScores = reference.Float("scores_sigmoid"), expectedLogits = reference.Float("logits");
        long[] ids = file.GetInt64("input_ids"), expectedIds = reference.Long("input_ids");
        for (int i = 0; i < items.Length; i++)
        {
            if (i == SequenceScoresTests.FastTruncationRow) continue;   // see there: a pair-truncation rule difference
            Assert.Equal(expectedIds.AsSpan(i * 64, 64).ToArray(), ids.AsSpan(i * 64, 64).ToArray());
            Assert.Equal(expectedScores[i], scores[i], 1e-4f);
            Assert.Equal(expectedLogits[i], logits[i], 1e-4f);
        }
    }

    [Fact]
    public void RerankPrintsTheDocumentsBestFirst()
    {
        using var reference = ReferenceSet.Load(SequenceScoresTests.CrossEncoder);
        var scores = reference.Float("scores_sigmoid");
        const string query = "A man is playing a guitar.";
        var rows = reference.Inputs.Select((input, i) => (input, i)).Where(p => p.input.Text == query).ToArray();
        string stdin = string.Join("\n", rows.Select(p => p.input.TextPair)) + "\n";
        var expected = rows.Select((p, j) => (j, score: scores[p.i])).OrderByDescending(p => p.score).ToArray();

        var r = CliRunner.RunWithStdin(stdin, "rerank", "--model", CrossEncoder, "--query", query, "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        Assert.Equal(expected.Select(p => p.j), lines.Select(l => l.GetProperty("index").GetInt32()));
        for (int k = 0; k < lines.Length; k++)
        {
            Assert.Equal(["index", "text", "score"], lines[k].EnumerateObject().Select(p => p.Name));
            Assert.Equal(rows[expected[k].j].input.TextPair, lines[k].GetProperty("text").GetString());
            Assert.Equal(expected[k].score, lines[k].GetProperty("score").GetSingle(), 1e-4f);
        }

        // --jsonl documents and --top-k give the same best document.
        string jsonl = string.Join("\n", rows.Select(p => JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = p.input.TextPair! })));
        var top = CliRunner.RunWithStdin(jsonl, "rerank", "--model", CrossEncoder, "--query", query, "--jsonl", "--top-k", "1", "--threads", "1");
        Assert.True(top.ExitCode == 0, top.Stderr);
        Assert.Equal(r.StdoutLines[0], Assert.Single(top.StdoutLines));
    }

    [Fact]
    public void RerankErrorsAreOneLine()
    {
        CliRunner.RunWithStdin("d\n", "rerank", "--model", TestPaths.Model("bert-tiny-sst2"), "--query", "q").AssertOneLineError(1, "exactly one logit");
        CliRunner.RunWithStdin("d\n", "rerank", "--model", TestPaths.Model("bert-tiny-mlm"), "--query", "q").AssertOneLineError(1, "no sequence-classification head");
        CliRunner.RunWithStdin("d\n", "rerank", "--model", CrossEncoder).AssertOneLineError(2, "--query");
        CliRunner.RunWithStdin("d\n", "rerank", "--model", CrossEncoder, "--query", "").AssertOneLineError(2, "--query");
        CliRunner.RunWithStdin("d\n", "rerank", "--model", CrossEncoder, "--query", "q", "--top-k", "0").AssertOneLineError(2, "--top-k");
        CliRunner.RunWithStdin("{\"text\":\"d\",\"text_pair\":\"e\"}\n", "rerank", "--model", CrossEncoder, "--query", "q", "--jsonl")
            .AssertOneLineError(1, "text_pair");
    }

    [Fact]
    public void ClassifyShowsTheCrossEncoderScore()
    {
        var r = CliRunner.RunWithStdin("{\"text\":\"who wrote hamlet\",\"text_pair\":\"Hamlet is a tragedy written by William Shakespeare.\"}\n",
            "classify", "--model", CrossEncoder, "--jsonl", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var row = JsonDocument.Parse(Assert.Single(r.StdoutLines)).RootElement;
        Assert.Equal("sigmoid", row.GetProperty("score_function").GetString());
        float logit = Assert.Single(row.GetProperty("logits").EnumerateArray()).GetSingle();
        float score = row.GetProperty("score").GetSingle();
        Assert.Equal(1 / (1 + MathF.Exp(-logit)), score, 1e-6f);
        Assert.InRange(score, 1e-4f, 0.9999f);   // not softmax over one logit (always 1)
        Assert.Equal(score, Assert.Single(row.GetProperty("scores").EnumerateArray()).GetSingle());
    }
}
