using System.Runtime.InteropServices;
using System.Text.Json;

namespace NativeTransformer.Tests.Serving;

/// <summary>/v1/embeddings "dimensions" (Matryoshka truncation, renormalised) with both encoding formats, and its errors.</summary>
public class ServeEmbeddingDimensionsTests
{
    private static readonly string[] Texts = ["a gorgeous , witty , seductive movie .", "dull"];

    [Fact]
    public async Task DimensionsTruncateAndRenormaliseInFloatAndBase64()
    {
        await using var server = await TestServer.StartAsync();
        using var model = TransformerModel.Load(TestServer.MlmDir, new LoadOptions { Threads = 1 });
        var expected = model.Embed(Texts).Select(v => EmbeddingDimensions.Truncate(v, 16)).ToArray();

        var json = await server.PostOkAsync("/v1/embeddings", TestServer.Body(Texts, extra: "\"dimensions\":16"));
        var data = json.GetProperty("data").EnumerateArray().ToArray();
        for (int i = 0; i < Texts.Length; i++) Assert.Equal(expected[i], TestServer.Floats(data[i].GetProperty("embedding")));

        var b64 = await server.PostOkAsync("/v1/embeddings", TestServer.Body(Texts, extra: "\"dimensions\":16,\"encoding_format\":\"base64\""));
        for (int i = 0; i < Texts.Length; i++)
        {
            var bytes = Convert.FromBase64String(b64.GetProperty("data")[i].GetProperty("embedding").GetString()!);
            Assert.Equal(expected[i], MemoryMarshal.Cast<byte, float>(bytes).ToArray());
        }
        // The full size is allowed (renormalised), null means absent; the usage counts the same tokens.
        var full = await server.PostOkAsync("/v1/embeddings", TestServer.Body(Texts, extra: $"\"dimensions\":{model.EmbeddingSize}"));
        Assert.Equal(model.EmbeddingSize, full.GetProperty("data")[0].GetProperty("embedding").GetArrayLength());
        var none = await server.PostOkAsync("/v1/embeddings", TestServer.Body(Texts, extra: "\"dimensions\":null"));
        Assert.Equal(model.Embed(Texts)[0], TestServer.Floats(none.GetProperty("data")[0].GetProperty("embedding")));
    }

    [Theory]
    [InlineData("\"dimensions\":0", "'dimensions' must be at least 1, got 0")]
    [InlineData("\"dimensions\":-3", "'dimensions' must be at least 1")]
    [InlineData("\"dimensions\":1.5", "'dimensions' must be a positive integer, got 1.5")]
    [InlineData("\"dimensions\":\"8\"", "'dimensions' must be a positive integer, got a string")]
    [InlineData("\"dimensions\":100000", "'dimensions' is 100000 but model 'mlm' makes embeddings of 128 dimensions; ask for at most 128")]
    public async Task BadDimensionsGetA400(string extra, string message)
    {
        await using var server = await TestServer.StartAsync();
        using var response = await server.PostAsync("/v1/embeddings", TestServer.Body("x", extra: extra));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(400 == (int)response.StatusCode, text);
        Assert.Contains(message, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task DimensionsOnClassifyIsRefused()
    {
        await using var server = await TestServer.StartAsync();
        using var response = await server.PostAsync("/v1/classify", TestServer.Body("x", "sst", extra: "\"dimensions\":4"));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("'dimensions' applies to /v1/embeddings only", await response.Content.ReadAsStringAsync());
    }
}
