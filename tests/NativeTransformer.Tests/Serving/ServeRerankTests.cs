using System.Text.Json;

namespace NativeTransformer.Tests.Serving;

/// <summary>POST /v1/rerank over loopback: the library's ranking in the Cohere / Jina response shape, and clear 4xx
/// errors for every bad request; /v1/classify shows a cross-encoder's sigmoid score.</summary>
public class ServeRerankTests
{
    private static readonly string CrossEncoderDir = TestPaths.Model(Models.SequenceScoresTests.CrossEncoder);
    private const string Query = "how many people live in berlin";
    private static readonly string[] Documents =
    [
        "Berlin is known for its museums and nightlife.",
        "Berlin has a population of about 3.7 million inhabitants.",
        "The Eiffel Tower was completed in 1889.",
        "",
        "Berlin has a population of about 3.7 million inhabitants.",   // a duplicate: computed once, answered twice
    ];

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(o => o with
    {
        Models = new Dictionary<string, string> { ["ce"] = CrossEncoderDir, ["sst"] = TestServer.SstDir, ["mlm"] = TestServer.MlmDir },
    });

    private static string Body(string model, string query, object documents, string? extra = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["model"] = model, ["query"] = query, ["documents"] = documents })[..^1]
        + (extra is null ? "" : "," + extra) + "}";

    [Fact]
    public async Task RerankEqualsTheLibrary()
    {
        await using var server = await StartAsync();
        using var model = TransformerModel.Load(CrossEncoderDir, new LoadOptions { Threads = 1 });
        var expected = model.Rerank(Query, Documents);

        var json = await server.PostOkAsync("/v1/rerank", Body("ce", Query, Documents));
        Assert.Equal("ce", json.GetProperty("model").GetString());
        var results = json.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(expected.Select(r => r.Index), results.Select(r => r.GetProperty("index").GetInt32()));
        for (int k = 0; k < results.Length; k++)
        {
            Assert.Equal(["index", "relevance_score"], results[k].EnumerateObject().Select(p => p.Name));
            Assert.Equal(expected[k].Score, results[k].GetProperty("relevance_score").GetSingle(), 1e-6f);
        }
        var scores = results.Select(r => r.GetProperty("relevance_score").GetSingle()).ToArray();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.True(scores[0] - scores[^1] > 0.01f);   // sigmoid scores that differ, not softmax's constant 1
        int tokens = Documents.Sum(d => model.Tokenizer.Encode(Query, d, model.MaxLength).Length);
        Assert.Equal(tokens, json.GetProperty("usage").GetProperty("total_tokens").GetInt32());

        // top_n and return_documents (the document as {"text"}); documents may also be {"text"} objects (Cohere v1).
        var objects = Documents.Select(d => new Dictionary<string, string> { ["text"] = d }).ToArray();
        var top = await server.PostOkAsync("/v1/rerank", Body("ce", Query, objects, "\"top_n\":2,\"return_documents\":true"));
        var best = top.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(2, best.Length);
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(expected[k].Index, best[k].GetProperty("index").GetInt32());
            Assert.Equal(Documents[expected[k].Index], best[k].GetProperty("document").GetProperty("text").GetString());
        }
    }

    [Theory]
    [InlineData("{\"model\":\"ce\",\"query\":\"q\",\"documents\":[]}", 400, "'documents' is an empty array")]
    [InlineData("{\"model\":\"ce\",\"query\":\"q\"}", 400, "'documents' is missing")]
    [InlineData("{\"model\":\"ce\",\"query\":\"q\",\"documents\":\"d\"}", 400, "'documents' must be an array")]
    [InlineData("{\"model\":\"ce\",\"query\":\"q\",\"documents\":[1]}", 400, "'documents[0]' must be a string")]
    [InlineData("{\"model\":\"ce\",\"query\":\"\",\"documents\":[\"d\"]}", 400, "'query' is empty")]
    [InlineData("{\"model\":\"ce\",\"documents\":[\"d\"]}", 400, "'query' is missing")]
    [InlineData("{\"model\":\"ce\",\"query\":\"q\",\"documents\":[\"d\"],\"top_n\":0}", 400, "'top_n' must be at least 1")]
    [InlineData("{\"model\":\"ce\",\"query\":\"q\",\"documents\":[\"d\"],\"top_n\":1.5}", 400, "'top_n' must be a positive integer")]
    [InlineData("{\"model\":\"ce\",\"query\":\"q\",\"documents\":[\"d\"],\"return_documents\":\"yes\"}", 400, "'return_documents' must be a boolean")]
    [InlineData("{\"query\":\"q\",\"documents\":[\"d\"]}", 400, "'model' is missing")]
    [InlineData("{\"model\":\"nope\",\"query\":\"q\",\"documents\":[\"d\"]}", 404, "model 'nope' is not served")]
    [InlineData("{\"model\":\"sst\",\"query\":\"q\",\"documents\":[\"d\"]}", 400, "2 labels")]
    [InlineData("{\"model\":\"mlm\",\"query\":\"q\",\"documents\":[\"d\"]}", 400, "no classification head")]
    [InlineData("", 400, "'model', 'query' and 'documents'")]
    public async Task BadRequestsGetClearErrors(string body, int status, string message)
    {
        await using var server = await StartAsync();
        using var response = await server.PostAsync("/v1/rerank", body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Contains(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task ClassifyShowsTheScoreFunction()
    {
        await using var server = await StartAsync();
        var sst = (await server.PostOkAsync("/v1/classify", TestServer.Body("a gorgeous , witty movie", "sst"))).GetProperty("data")[0];
        Assert.Equal("softmax", sst.GetProperty("score_function").GetString());
        Assert.Equal(1f, TestServer.Floats(sst.GetProperty("scores")).Sum(), 1e-5f);

        var ce = (await server.PostOkAsync("/v1/classify", TestServer.Body("Berlin has a population of about 3.7 million.", "ce"))).GetProperty("data")[0];
        Assert.Equal("sigmoid", ce.GetProperty("score_function").GetString());
        float logit = Assert.Single(TestServer.Floats(ce.GetProperty("logits")));
        Assert.Equal(1 / (1 + MathF.Exp(-logit)), ce.GetProperty("score").GetSingle(), 1e-6f);
    }
}
