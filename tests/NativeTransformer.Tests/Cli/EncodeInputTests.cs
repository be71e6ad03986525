using NativeTransformer.Cli;
using NativeTransformer.Cli.Commands;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Cli;

public class EncodeInputTests
{
    private static List<TextInput> Parse(string json) =>
        InputParsing.ParseEncodeInput(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)), "in.json");

    [Fact]
    public void ParsesTextsAndPairs()
    {
        var list = Parse("[{\"text\": \"a\"}, {\"text\": \"b\", \"text_pair\": \"c\"}, {\"text\": \"d\", \"text_pair\": null}]");
        Assert.Equal([new TextInput("a"), new TextInput("b", "c"), new TextInput("d")], list);
    }

    [Fact]
    public void ParsesLongformerGlobalAttentionPositions()
    {
        var list = Parse("[{\"text\": \"a\", \"global_attention\": [0, 3]}, {\"text\": \"b\", \"global_attention\": null}]");
        Assert.Equal([0, 3], list[0].GlobalAttention);
        Assert.Null(list[1].GlobalAttention);
    }

    [Fact]
    public void AcceptsAUtf8Bom()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(System.Text.Encoding.UTF8.GetBytes("[{\"text\": \"é\"}]")).ToArray();
        Assert.Equal("é", InputParsing.ParseEncodeInput(new MemoryStream(bytes), "in.json")[0].Text);
    }

    [Theory]
    [InlineData("{\"text\": \"a\"}", "expected a JSON array")]
    [InlineData("[]", "empty")]
    [InlineData("[\"a\"]", "item 0: expected an object")]
    [InlineData("[{\"text\": \"a\"}, [\"b\"]]", "item 1: expected an object")]
    [InlineData("[{\"text\": \"a\"}, {\"text\": \"b\"}, {\"text\": 3}]", "item 2: \"text\" must be a string")]
    [InlineData("[{\"text_pair\": \"b\"}]", "item 0: missing \"text\"")]
    [InlineData("[{\"text\": \"a\", \"pair\": \"b\"}]", "item 0: unexpected key \"pair\"")]
    [InlineData("[{\"text\": \"a\"},]", "invalid JSON")]
    [InlineData("[{\"text\": \"a\", \"global_attention\": 0}]", "item 0: \"global_attention\" must be an array")]
    [InlineData("[{\"text\": \"a\", \"global_attention\": [0, -1]}]", "item 0: \"global_attention\"[1] must be a non-negative integer")]
    [InlineData("[{\"text\": \"a\", \"global_attention\": [1.5]}]", "\"global_attention\"[0] must be a non-negative integer")]
    [InlineData("", "invalid JSON")]
    public void RejectsOtherShapesNamingTheIndex(string json, string expected)
    {
        var e = Assert.Throws<InputException>(() => Parse(json));
        Assert.StartsWith("in.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void InvalidUtf8IsAnInputError()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("[{\"text\": \"a").Concat(new byte[] { 0xFF }).Concat(System.Text.Encoding.UTF8.GetBytes("\"}]")).ToArray();
        Assert.Throws<InputException>(() => InputParsing.ParseEncodeInput(new MemoryStream(bytes), "in.json"));
    }

    private static EncodeResult FakeResult(bool pooler, bool logits, bool embeddings, int layers = 2)
    {
        const int B = 2, S = 3, H = 4;
        var rows = new global::NativeTransformer.Tokenization.Encoding[0];
        var batch = new EncodedBatch(B, S, [101, 7, 102, 101, 102, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0], [3, 2], rows);
        float[] Seq(int n, float start) => Enumerable.Range(0, n).Select(i => start + i * 0.5f).ToArray();
        return new EncodeResult
        {
            Batch = batch,
            HiddenSize = H,
            HiddenStates = Enumerable.Range(0, layers + 1).Select(l => Seq(B * S * H, l)).ToArray(),
            PoolerOutput = pooler ? Seq(B * H, -1) : null,
            Logits = logits ? Seq(B * 2, 3) : null,
            NumLabels = logits ? 2 : 0,
            Embeddings = embeddings ? Seq(B * H, 9) : null,
        };
    }

    [Fact]
    public void TensorNamesShapesAndDtypes()
    {
        var tensors = EncodeCommand.BuildTensors(FakeResult(pooler: true, logits: true, embeddings: true));
        Assert.Equal(
            ["input_ids", "attention_mask", "token_type_ids", "hidden_states.0", "hidden_states.1", "hidden_states.2", "pooler_output", "logits", "embeddings"],
            tensors.Select(t => t.Name));
        var byName = tensors.ToDictionary(t => t.Name);
        Assert.Equal(DType.I64, byName["input_ids"].DType);
        Assert.Equal([2L, 3L], byName["input_ids"].Shape);
        Assert.Equal(6 * 8, byName["attention_mask"].Data.Length);
        Assert.Equal(DType.F32, byName["hidden_states.2"].DType);
        Assert.Equal([2L, 3L, 4L], byName["hidden_states.2"].Shape);
        Assert.Equal(24 * 4, byName["hidden_states.2"].Data.Length);
        Assert.Equal([2L, 4L], byName["pooler_output"].Shape);
        Assert.Equal([2L, 2L], byName["logits"].Shape);
        Assert.Equal([2L, 4L], byName["embeddings"].Shape);

        // Little-endian payloads with the exact values.
        var ids = byName["input_ids"].Data.Span;
        Assert.Equal(101L, BitConverter.ToInt64(ids[..8]));
        Assert.Equal(0L, BitConverter.ToInt64(ids[40..48]));
        var h2 = byName["hidden_states.2"].Data.Span;
        Assert.Equal(2.5f, BitConverter.ToSingle(h2[4..8]));
    }

    [Fact]
    public void OptionalHeadsAreLeftOut()
    {
        var names = EncodeCommand.BuildTensors(FakeResult(pooler: false, logits: false, embeddings: false, layers: 4)).Select(t => t.Name).ToArray();
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids", "hidden_states.0", "hidden_states.1", "hidden_states.2", "hidden_states.3", "hidden_states.4"], names);
    }

    [Fact]
    public void MetadataNamesFormatAndProducer()
    {
        Assert.Equal("pt", EncodeCommand.Metadata["format"]);
        Assert.Equal("ntr", EncodeCommand.Metadata["producer"]);
    }
}
