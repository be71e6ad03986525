using System.Text;
using System.Text.Json;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Cli;

/// <summary>
/// CliApp.Run on the real models in ../shared/models. These need the library (tokenizer, safetensors
/// reader/writer, runtime); they fail while its methods are stubs.
/// </summary>
public class EndToEndTests
{
    private static readonly string TinySst2 = TestPaths.Model("bert-tiny-sst2");
    private static readonly string TinyMlm = TestPaths.Model("bert-tiny-mlm");
    private static readonly string MiniLm = TestPaths.Model("all-MiniLM-L6-v2");

    private static JsonElement[] ParseLines(CliResult r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Equal("", r.Stderr);
        return r.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
    }

    [Fact]
    public void TokenizeNeedsOnlyTokenizerFiles()
    {
        Assert.False(File.Exists(Path.Combine(MiniLm, "model.safetensors")));
        var rows = ParseLines(CliRunner.RunWithStdin("Hello, world!\n\nnaïve café\n", "tokenize", "--model", MiniLm));
        Assert.Equal(3, rows.Length);
        var first = rows[0];
        Assert.Equal("Hello, world!", first.GetProperty("text").GetString());
        Assert.False(first.TryGetProperty("text_pair", out _));
        var ids = first.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var tokens = first.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal([101, 7592, 1010, 2088, 999, 102], ids);
        Assert.Equal(["[CLS]", "hello", ",", "world", "!", "[SEP]"], tokens);
        Assert.Equal(ids.Length, first.GetProperty("token_type_ids").GetArrayLength());
        var offsets = first.GetProperty("offsets").EnumerateArray().ToArray();
        Assert.Equal(ids.Length, offsets.Length);
        Assert.Equal([0, 5], offsets[1].EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(2, rows[1].GetProperty("input_ids").GetArrayLength()); // empty line -> [CLS] [SEP]
    }

    [Fact]
    public void TokenizePairsAndTruncation()
    {
        var rows = ParseLines(CliRunner.RunWithStdin(
            "{\"text\": \"a b c d e f\", \"text_pair\": \"g h i\"}\n", "tokenize", "--model", MiniLm, "--jsonl", "--max-length", "6"));
        var row = Assert.Single(rows);
        Assert.Equal("g h i", row.GetProperty("text_pair").GetString());
        Assert.Equal(6, row.GetProperty("input_ids").GetArrayLength());
        Assert.Contains(1, row.GetProperty("token_type_ids").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void TokenizeInvalidUtf8LineIsAnError()
    {
        var bytes = Encoding.UTF8.GetBytes("ok\n").Concat(new byte[] { 0xC3, 0x0A }).ToArray();
        var r = CliRunner.RunWithStdinBytes(bytes, "tokenize", "--model", MiniLm);
        r.AssertOneLineError(1, "line 2");
        Assert.Single(r.StdoutLines); // the valid first line was still written
    }

    [Fact]
    public void ClassifyJsonLines()
    {
        var rows = ParseLines(CliRunner.RunWithStdin("a charming and often affecting journey\nbleak and desperate\n", "classify", "--model", TinySst2));
        Assert.Equal(2, rows.Length);
        foreach (var row in rows)
        {
            Assert.Equal(["text", "label", "score", "logits", "scores", "score_function"], row.EnumerateObject().Select(p => p.Name));
            Assert.Equal("softmax", row.GetProperty("score_function").GetString());
            Assert.Equal(2, row.GetProperty("logits").GetArrayLength());
            Assert.InRange(row.GetProperty("score").GetSingle(), 0.5f, 1f);
        }
    }

    [Fact]
    public void ClassifyPreservesOrderAcrossChunks()
    {
        using var tmp = new TempDir();
        var texts = Enumerable.Range(0, 150).Select(i => $"sentence number {i}").ToArray();
        string input = tmp.Write("in.txt", string.Join("\n", texts) + "\n");
        var rows = ParseLines(CliRunner.Run("classify", "--model", TinySst2, "--input", input, "--batch-size", "7"));
        Assert.Equal(texts, rows.Select(r => r.GetProperty("text").GetString()));
    }

    [Fact]
    public void ClassifyJsonlWithBadLineIsOneLineError()
    {
        var r = CliRunner.RunWithStdin("{\"text\": \"fine\"}\n{\"text\": }\n", "classify", "--model", TinySst2, "--jsonl");
        r.AssertOneLineError(1, "line 2");
    }

    [Fact]
    public void EmbedJsonLines()
    {
        var rows = ParseLines(CliRunner.RunWithStdin("hello\n{x}\n", "embed", "--model", TinyMlm));
        Assert.Equal(2, rows.Length);
        Assert.Equal(["text", "embedding"], rows[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(128, rows[0].GetProperty("embedding").GetArrayLength());
    }

    [Fact]
    public void FillMask()
    {
        var rows = ParseLines(CliRunner.Run("fill-mask", "--model", TinyMlm, "--top-k", "3", "this movie is [MASK] ."));
        var masks = Assert.Single(rows).GetProperty("masks").EnumerateArray().ToArray();
        var mask = Assert.Single(masks);
        Assert.Equal(4, mask.GetProperty("position").GetInt32());
        var cands = mask.GetProperty("candidates").EnumerateArray().ToArray();
        Assert.Equal(3, cands.Length);
        Assert.Equal(["token", "id", "score"], cands[0].EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void EncodeWritesTheExpectedTensors()
    {
        using var tmp = new TempDir();
        string input = tmp.Write("in.json", "[{\"text\": \"a charming journey\"}, {\"text\": \"is it good?\", \"text_pair\": \"yes\"}]");
        string output = tmp.File("out.safetensors");
        var r = CliRunner.Run("encode", "--model", TinySst2, "--input", input, "--output", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("", r.Stdout + r.Stderr);
        using var f = SafetensorsFile.Open(output);
        var names = f.Tensors.Select(t => t.Name).ToHashSet();
        string[] expected = ["input_ids", "attention_mask", "token_type_ids", "hidden_states.0", "hidden_states.1", "hidden_states.2", "pooler_output", "logits"];
        Assert.Equal(expected.ToHashSet(), names);
        Assert.True(f.TryGetInfo("input_ids", out var ids));
        Assert.Equal(DType.I64, ids.DType);
        Assert.Equal(2, ids.Shape[0]);
        Assert.True(f.TryGetInfo("hidden_states.2", out var h));
        Assert.Equal([2L, ids.Shape[1], 128L], h.Shape);
        Assert.True(f.TryGetInfo("logits", out var logits));
        Assert.Equal([2L, 2L], logits.Shape);
        Assert.Equal("ntr", f.Metadata["producer"]);
    }

    [Fact]
    public void InspectRefusesAFolderWithoutWeightsUnlessTokenizerOnly()
    {
        CliRunner.Run("inspect", "--model", MiniLm, "--json").AssertOneLineError(1, "--tokenizer-only");
        CliRunner.Run("inspect", "--model", MiniLm).AssertOneLineError(1, "no weights");

        var r = CliRunner.Run("inspect", "--model", MiniLm, "--tokenizer-only", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(Assert.Single(ParseLines(r)).GetRawText());
        Assert.Equal("WordPiece", doc.RootElement.GetProperty("tokenizer_kind").GetString());
        Assert.Equal(30522, doc.RootElement.GetProperty("vocab_size").GetInt32());
    }

    [Fact]
    public void InspectTokenizerOnlyOnAByteLevelBpeFolder()
    {
        var r = CliRunner.Run("inspect", "--model", TestPaths.Model("roberta-mini-sst2"), "--tokenizer-only");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("BPE (byte-level)", r.Stdout);
        Assert.Contains("<mask> (id 50264)", r.Stdout);
        // A tokenizer that does not load is still an error.
        using var tmp = new TempDir();
        tmp.Write("vocab.json", "[1]");
        tmp.Write("merges.txt", "#version: 0.2\n");
        CliRunner.Run("inspect", "--model", tmp.Path, "--tokenizer-only").AssertOneLineError(1, "vocab.json");
    }

    [Fact]
    public void TokenizeWorksOnAByteLevelBpeFolder()
    {
        var r = CliRunner.RunWithStdin("Hello world\n", "tokenize", "--model", TestPaths.Model("roberta-mini-sst2"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(Assert.Single(ParseLines(r)).GetRawText());
        Assert.Equal([0, 31414, 232, 2], doc.RootElement.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(["<s>", "Hello", "Ġworld", "</s>"], doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void InspectText()
    {
        var r = CliRunner.Run("inspect", "--model", TinySst2);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("BertForSequenceClassification", r.Stdout);
    }

    [Fact]
    public void ClassifyOnAModelWithoutWeightsIsOneLineError()
    {
        CliRunner.RunWithStdin("hello\n", "classify", "--model", MiniLm).AssertOneLineError(1);
    }

    [Fact]
    public void ClassifyOnAMaskedLmIsOneLineError()
    {
        CliRunner.RunWithStdin("hello\n", "classify", "--model", TinyMlm).AssertOneLineError(1, "classification head");
    }

    [Fact]
    public void FolderWithoutConfigIsOneLineError()
    {
        using var tmp = new TempDir();
        CliRunner.RunWithStdin("hello\n", "classify", "--model", tmp.Path).AssertOneLineError(1);
        CliRunner.RunWithStdin("hello\n", "tokenize", "--model", tmp.Path).AssertOneLineError(1);
        CliRunner.Run("inspect", "--model", tmp.Path).AssertOneLineError(1);
    }
}
