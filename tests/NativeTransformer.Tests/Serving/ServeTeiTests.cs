using System.Text.Json;

namespace NativeTransformer.Tests.Serving;

/// <summary>The text-embeddings-inference (TEI) compatible routes over loopback, with TEI's documented request bodies:
/// answers equal the library's own results computed here, errors are TEI's {"error", "error_type"} with its status codes.</summary>
public class ServeTeiTests
{
    private static readonly string MiniSst = TestPaths.Model("bert-mini-sst2");
    private static readonly string CrossEncoder = TestPaths.Model("bert-mini-cross-encoder");
    private static readonly string[] Texts = ["a gorgeous , witty , seductive movie .", "dull", "the plot is thin but the acting is fine"];

    /// <summary>"mlm" first (the default model), then a classifier and a cross-encoder; --max-length 16 so long inputs are easy.</summary>
    private static Task<TestServer> StartAsync(int maxBatch = 32) => TestServer.StartAsync(o => o with
    {
        Models = new Dictionary<string, string> { ["mlm"] = TestServer.MlmDir, ["sst"] = MiniSst, ["ce"] = CrossEncoder },
        LoadOptions = o.LoadOptions with { MaxLength = 16 },
        MaxBatch = maxBatch,
    });

    private static TransformerModel Load(string dir) => TransformerModel.Load(dir, new LoadOptions { Threads = 1, MaxLength = 16 });

    private static float[][] Matrix(JsonElement e) => e.EnumerateArray().Select(TestServer.Floats).ToArray();

    private static float[] L2(float[] v)
    {
        double n = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => (float)(x / n)).ToArray();
    }

    private static void Near(float[] expected, float[] actual, float tolerance = 1e-6f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public async Task EmbedEqualsTheLibraryNormalisedOrRaw()
    {
        await using var server = await StartAsync();
        using var model = Load(TestServer.MlmDir);
        var expected = model.Embed(Texts);

        var json = await server.PostOkAsync("/embed", JsonSerializer.Serialize(new { inputs = Texts }));
        var got = Matrix(json);
        for (int i = 0; i < Texts.Length; i++) Near(L2(expected[i]), got[i]);   // normalize defaults to true

        var raw = Matrix(await server.PostOkAsync("/embed", JsonSerializer.Serialize(new { inputs = Texts[1], normalize = false, model = "mlm" })));
        Near(expected[1], Assert.Single(raw));

        var cut = Matrix(await server.PostOkAsync("/embed", "{\"inputs\":\"dull\",\"dimensions\":8}"));
        Near(L2(expected[1][..8]), Assert.Single(cut));
    }

    [Fact]
    public async Task EmbedAllGivesEachTokensLastHiddenState()
    {
        await using var server = await StartAsync();
        using var model = Load(TestServer.MlmDir);
        var json = await server.PostOkAsync("/embed_all", JsonSerializer.Serialize(new { inputs = Texts[..2] }));
        Assert.Equal(2, json.GetArrayLength());
        for (int i = 0; i < 2; i++)
        {
            // Each text alone through the library (no padding): the server's padded batch must give the same values.
            var alone = model.Encode([new TextInput(Texts[i])]);
            int h = alone.HiddenSize, n = alone.Batch.Lengths[0];
            var rows = json[i].EnumerateArray().Select(TestServer.Floats).ToArray();
            Assert.Equal(n, rows.Length);
            for (int t = 0; t < n; t++) Near(alone.HiddenStates[^1].AsSpan(t * h, h).ToArray(), rows[t]);
        }
    }

    [Fact]
    public async Task SimilarityIsTheCosineOfTheLibrarysEmbeddings()
    {
        await using var server = await StartAsync();
        using var model = Load(TestServer.MlmDir);
        var v = model.Embed(Texts);
        var json = await server.PostOkAsync("/similarity",
            JsonSerializer.Serialize(new { inputs = new { source_sentence = Texts[0], sentences = Texts[1..] } }));
        var got = TestServer.Floats(json);
        Assert.Equal(2, got.Length);
        for (int i = 0; i < 2; i++)
        {
            var (a, b) = (v[0], v[i + 1]);
            double dot = 0, na = 0, nb = 0;
            for (int k = 0; k < a.Length; k++) { dot += (double)a[k] * b[k]; na += (double)a[k] * a[k]; nb += (double)b[k] * b[k]; }
            Assert.Equal(dot / Math.Sqrt(na * nb), got[i], 1e-6);
        }
    }

    [Fact]
    public async Task PredictGivesEveryLabelBestFirstForOneInputAndABatch()
    {
        await using var server = await StartAsync();
        using var model = Load(MiniSst);
        var expected = model.Classify(Texts);

        var single = await server.PostOkAsync("/predict", "{\"model\":\"sst\",\"inputs\":" + JsonSerializer.Serialize(Texts[0]) + "}");
        Check(single, expected[0], raw: false);

        var batch = await server.PostOkAsync("/predict", JsonSerializer.Serialize(new { model = "sst", inputs = Texts.Select(t => new[] { t }), raw_scores = true }));
        Assert.Equal(Texts.Length, batch.GetArrayLength());
        for (int i = 0; i < Texts.Length; i++) Check(batch[i], expected[i], raw: true);

        // A pair [text, text] is one input of two segments.
        var pair = await server.PostOkAsync("/predict", JsonSerializer.Serialize(new { model = "sst", inputs = new[] { Texts[0], Texts[1] } }));
        Check(pair, model.Classify([new TextInput(Texts[0], Texts[1])])[0], raw: false);

        static void Check(JsonElement predictions, Classification c, bool raw)
        {
            var items = predictions.EnumerateArray().ToArray();
            Assert.Equal(2, items.Length);
            Assert.Equal(c.Label, items[0].GetProperty("label").GetString());
            var names = new[] { "negative", "positive" };
            foreach (var item in items)
            {
                int k = Array.IndexOf(names, item.GetProperty("label").GetString());
                Assert.Equal(raw ? c.Logits[k] : c.Scores[k], item.GetProperty("score").GetSingle(), 1e-6f);
            }
            if (!raw) Assert.True(items[0].GetProperty("score").GetSingle() >= items[1].GetProperty("score").GetSingle());
        }
    }

    [Fact]
    public async Task RerankEqualsTheLibraryAndAnEmbeddingModelGets424()
    {
        await using var server = await StartAsync();
        using var model = Load(CrossEncoder);
        string query = "people in berlin";
        string[] texts = ["Berlin is known for its museums.", "Berlin has 3.7 million inhabitants.", "The Eiffel Tower is in Paris."];
        var expected = model.Rerank(query, texts);

        var json = await server.PostOkAsync("/rerank", JsonSerializer.Serialize(new { model = "ce", query, texts, return_text = true }));
        var ranks = json.EnumerateArray().ToArray();
        Assert.Equal(expected.Select(r => r.Index), ranks.Select(r => r.GetProperty("index").GetInt32()));
        for (int k = 0; k < ranks.Length; k++)
        {
            Assert.Equal(expected[k].Score, ranks[k].GetProperty("score").GetSingle(), 1e-6f);
            Assert.Equal(texts[expected[k].Index], ranks[k].GetProperty("text").GetString());
        }
        var raw = await server.PostOkAsync("/rerank", JsonSerializer.Serialize(new { model = "ce", query, texts, raw_scores = true }));
        Assert.Equal(expected[0].Logit, raw[0].GetProperty("score").GetSingle(), 1e-5f);
        Assert.False(raw[0].TryGetProperty("text", out _));

        await ExpectError(server, "/rerank", JsonSerializer.Serialize(new { query, texts }), 424, "Backend", "no classification head");
        await ExpectError(server, "/predict", "{\"inputs\":\"x\"}", 424, "Backend", "no classification head");
    }

    [Fact]
    public async Task TokenizeGivesIdsSpecialFlagsAndByteOffsets()
    {
        await using var server = await StartAsync();
        using var model = Load(TestServer.MlmDir);
        string text = "Café au lait";   // 'é' is two UTF-8 bytes: offsets after it differ from UTF-16 ones
        var json = await server.PostOkAsync("/tokenize", JsonSerializer.Serialize(new { inputs = new[] { text } }));
        var tokens = Assert.Single(json.EnumerateArray()).EnumerateArray().ToArray();
        var e = model.Tokenizer.Encode(text);
        Assert.Equal(e.Ids, tokens.Select(t => t.GetProperty("id").GetInt32()));
        Assert.True(tokens[0].GetProperty("special").GetBoolean());
        Assert.Equal(JsonValueKind.Null, tokens[0].GetProperty("start").ValueKind);
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        foreach (var t in tokens.Where(t => !t.GetProperty("special").GetBoolean()))
        {
            int start = t.GetProperty("start").GetInt32(), stop = t.GetProperty("stop").GetInt32();
            Assert.Equal(t.GetProperty("text").GetString(), System.Text.Encoding.UTF8.GetString(bytes, start, stop - start));
        }
        var plain = await server.PostOkAsync("/tokenize", JsonSerializer.Serialize(new { inputs = text, add_special_tokens = false }));
        Assert.Equal(model.Tokenizer.EncodeIdsNoSpecial(text), plain[0].EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
    }

    [Fact]
    public async Task InfoDescribesTheDefaultOrNamedModel()
    {
        await using var server = await StartAsync();
        var info = JsonDocument.Parse(await server.Client.GetStringAsync("/info")).RootElement;
        Assert.Equal("mlm", info.GetProperty("model_id").GetString());
        Assert.Equal(16, info.GetProperty("max_input_length").GetInt32());
        Assert.Equal("mean", info.GetProperty("model_type").GetProperty("embedding").GetProperty("pooling").GetString());
        Assert.Equal(256, info.GetProperty("max_client_batch_size").GetInt32());
        var sst = JsonDocument.Parse(await server.Client.GetStringAsync("/info?model=sst")).RootElement;
        Assert.Equal("positive", sst.GetProperty("model_type").GetProperty("classifier").GetProperty("id2label").GetProperty("1").GetString());
        var ce = JsonDocument.Parse(await server.Client.GetStringAsync("/info?model=ce")).RootElement;
        Assert.True(ce.GetProperty("model_type").TryGetProperty("reranker", out _));
    }

    [Fact]
    public async Task LongInputsAre422UnlessTruncateIsTrue()
    {
        await using var server = await StartAsync();
        using var model = Load(TestServer.MlmDir);
        string text = string.Join(' ', Enumerable.Repeat("movie", 40));
        await ExpectError(server, "/embed", JsonSerializer.Serialize(new { inputs = text }), 422, "Validation", "takes at most 16");
        var cut = Matrix(await server.PostOkAsync("/embed", JsonSerializer.Serialize(new { inputs = text, truncate = true, normalize = false })));
        Near(model.Embed([text])[0], Assert.Single(cut));   // the library truncates to --max-length
    }

    [Theory]
    [InlineData("/embed", "{\"inputs\":\"\"}", 422, "'inputs' is empty")]
    [InlineData("/embed", "{\"inputs\":[]}", 422, "'inputs' is an empty array")]
    [InlineData("/embed", "{\"input\":\"x\"}", 422, "'inputs' is missing")]
    [InlineData("/embed", "{\"inputs\":[\"x\", 3]}", 422, "'inputs[1]' must be a string")]
    [InlineData("/embed", "{\"inputs\":\"x\",\"normalize\":\"yes\"}", 422, "'normalize' must be a boolean")]
    [InlineData("/embed", "not json", 422, "not valid JSON")]
    [InlineData("/embed", "{\"inputs\":\"x\",\"model\":\"nope\"}", 404, "model 'nope' is not served")]
    [InlineData("/rerank", "{\"model\":\"ce\",\"query\":\"q\"}", 422, "'texts' is missing")]
    [InlineData("/predict", "{\"model\":\"sst\",\"inputs\":[\"a\",\"b\",\"c\"]}", 422, "an array of 3 items")]
    [InlineData("/similarity", "{\"inputs\":{\"source_sentence\":\"a\"}}", 422, "'sentences' is missing")]
    public async Task BadRequestsGetTeiErrors(string path, string body, int status, string message)
    {
        await using var server = await StartAsync();
        await ExpectError(server, path, body, status, "Validation", message);
    }

    [Fact]
    public async Task TooManyInputsIs413AndABatchAboveMaxBatchIsSplit()
    {
        await using var server = await StartAsync(maxBatch: 4);
        var many = Enumerable.Range(0, 257).Select(i => $"text {i}").ToArray();
        await ExpectError(server, "/embed", JsonSerializer.Serialize(new { inputs = many }), 413, "Validation", "the limit is 256");

        // 10 distinct inputs with --max-batch 4: three forward passes, answers in input order equal to the library's.
        using var model = Load(TestServer.MlmDir);
        var ten = many[..10];
        var got = Matrix(await server.PostOkAsync("/embed", JsonSerializer.Serialize(new { inputs = ten, normalize = false })));
        var expected = model.Embed(ten);
        for (int i = 0; i < ten.Length; i++) Near(expected[i], got[i]);
        Assert.Equal(10, await server.MetricAsync("ntr_batch_inputs_total"));
        Assert.True(await server.MetricAsync("ntr_batch_size_count") >= 3);
        Assert.True(await server.MetricAsync("ntr_tokenization_duration_seconds_count") >= 1);
    }

    private static async Task ExpectError(TestServer server, string path, string body, int status, string type, string message)
    {
        using var response = await server.PostAsync(path, body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement;
        Assert.Equal(type, error.GetProperty("error_type").GetString());
        Assert.Contains(message, error.GetProperty("error").GetString());
    }
}
