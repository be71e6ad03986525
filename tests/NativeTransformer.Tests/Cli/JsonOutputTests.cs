using System.Text.Json;
using NativeTransformer.Cli;
using NativeTransformer.Cli.Commands;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Cli;

public class JsonOutputTests
{
    private static string One(Action<JsonLineWriter> write)
    {
        var sw = new StringWriter();
        write(new JsonLineWriter(sw));
        string s = sw.ToString();
        Assert.EndsWith("\n", s);
        Assert.Single(s.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return s[..^1];
    }

    [Fact]
    public void NonAsciiStaysReadableAndRoundTrips()
    {
        string text = "café <b> & 'q' + 日本語 😀 \"quoted\" back\\slash tab\t nl\n ctl\u0001 del\u007f \u2028";
        string line = One(j => EmbedCommand.Write(j, new TextInput(text), [1f]));
        Assert.Contains("café <b> & 'q' + 日本語 😀 \\\"quoted\\\" back\\\\slash tab\\t nl\\n ctl\\u0001", line);
        using var doc = JsonDocument.Parse(line);
        Assert.Equal(text, doc.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void LoneSurrogatesDoNotCrashTheWriter()
    {
        string line = One(j => EmbedCommand.Write(j, new TextInput("a\uD800b"), [1f]));
        using var doc = JsonDocument.Parse(line);
        Assert.StartsWith("a", doc.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void EscapedLoneSurrogateInJsonlIsAnInputError()
    {
        // Either rejected as input, or accepted; never an unexpected exception type.
        try { InputParsing.ParseJsonLine("{\"text\": \"a\\ud800\"}", "f", 1); }
        catch (InputException e) { Assert.Contains("line 1", e.Message); }
    }

    [Fact]
    public void FloatsRoundTripAndNonFiniteBecomeNull()
    {
        float[] values = [0.1f, -1.5e-7f, 3.4028235e38f, 1f / 3f, 0f, float.NaN, float.PositiveInfinity];
        string line = One(j => EmbedCommand.Write(j, new TextInput("x"), values));
        using var doc = JsonDocument.Parse(line);
        var arr = doc.RootElement.GetProperty("embedding").EnumerateArray().ToArray();
        for (int i = 0; i < 5; i++) Assert.Equal(values[i], arr[i].GetSingle());
        Assert.Equal(JsonValueKind.Null, arr[5].ValueKind);
        Assert.Equal(JsonValueKind.Null, arr[6].ValueKind);
    }

    [Fact]
    public void ClassifyRecordKeys()
    {
        string line = One(j => ClassifyCommand.Write(j, new TextInput("good"), new Classification("positive", 1, 0.75f, [-1.25f, 0.5f])));
        Assert.Equal("{\"text\":\"good\",\"label\":\"positive\",\"score\":0.75,\"logits\":[-1.25,0.5]}", line);
        string pair = One(j => ClassifyCommand.Write(j, new TextInput("a", "b"), new Classification("LABEL_0", 0, 0.5f, [0f, 0f])));
        Assert.StartsWith("{\"text\":\"a\",\"text_pair\":\"b\",\"label\":\"LABEL_0\"", pair);
    }

    [Fact]
    public void TokenizeRecord()
    {
        var e = new global::NativeTransformer.Tokenization.Encoding([101, 7592, 102], [0, 0, 0], ["[CLS]", "hello", "[SEP]"], [(0, 0), (0, 5), (0, 0)], [-1, 0, -1], false);
        string line = One(j => TokenizeCommand.Write(j, new TextInput("Hello"), e));
        Assert.Equal("{\"text\":\"Hello\",\"input_ids\":[101,7592,102],\"token_type_ids\":[0,0,0],\"tokens\":[\"[CLS]\",\"hello\",\"[SEP]\"],\"offsets\":[[0,0],[0,5],[0,0]]}", line);
    }

    [Fact]
    public void FillMaskRecord()
    {
        MaskPrediction[] masks = [new(2, [new FillMaskCandidate(2204, "good", 0.5f), new FillMaskCandidate(2919, "bad", 0.25f)])];
        string line = One(j => FillMaskCommand.Write(j, "a [MASK] film", masks));
        Assert.Equal("{\"text\":\"a [MASK] film\",\"masks\":[{\"position\":2,\"candidates\":[{\"token\":\"good\",\"id\":2204,\"score\":0.5},{\"token\":\"bad\",\"id\":2919,\"score\":0.25}]}]}", line);
    }

    private static readonly ModelSummary Summary = new(
        "/m", "bert", "BertForSequenceClassification", 2, 128, 2, 512, 30522, 4_386_178, 17_544_712,
        new Dictionary<string, int> { ["F32"] = 39, ["I64"] = 1 }, ["pooler", "classifier (2 labels)"], true);

    [Fact]
    public void InspectJson()
    {
        var sw = new StringWriter();
        InspectCommand.WriteJson(sw, Summary);
        using var doc = JsonDocument.Parse(sw.ToString());
        var r = doc.RootElement;
        Assert.Equal("BertForSequenceClassification", r.GetProperty("architecture").GetString());
        Assert.Equal(2, r.GetProperty("layers").GetInt32());
        Assert.Equal(4_386_178, r.GetProperty("parameter_count").GetInt64());
        Assert.Equal(39, r.GetProperty("tensors_by_dtype").GetProperty("F32").GetInt32());
        Assert.Equal("classifier (2 labels)", r.GetProperty("output_heads")[1].GetString());
        Assert.True(r.GetProperty("has_weights").GetBoolean());
    }

    [Fact]
    public void InspectText()
    {
        string text = InspectCommand.FormatText(Summary);
        Assert.Contains("architecture:", text);
        Assert.Contains("BertForSequenceClassification", text);
        Assert.Contains("4,386,178", text);
        Assert.Contains("F32=39, I64=1", text);
        Assert.Contains("has weights:", text);
        Assert.Contains("yes", text);
    }
}
