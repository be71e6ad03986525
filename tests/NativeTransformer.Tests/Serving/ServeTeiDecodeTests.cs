using System.Net.Http.Headers;
using System.Text.Json;
using NativeTransformer.Serving;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Serving;

/// <summary>TEI's POST /decode over loopback: {"ids": [..] | [[..], ..], "skip_special_tokens"?, "model"?} answers a list of
/// strings (one per sequence, a list even for one) equal to the library's <see cref="ITokenizer.Decode"/>; errors are
/// TEI's {"error", "error_type"} with 422 / 413 / 404 / 401.</summary>
public class ServeTeiDecodeTests
{
    private static readonly string Roberta = TestPaths.Model("roberta-mini-sst2");
    private static readonly string Xlmr = TestPaths.Model("xlmr-mini-sst2");

    /// <summary>"mlm" (WordPiece) is the default model; a byte-level BPE and a SentencePiece one beside it.</summary>
    private static Task<TestServer> StartAsync(Func<ServeOptions, ServeOptions>? more = null) => TestServer.StartAsync(o =>
    {
        o = o with { Models = new Dictionary<string, string> { ["mlm"] = TestServer.MlmDir, ["rob"] = Roberta, ["xlmr"] = Xlmr } };
        return more?.Invoke(o) ?? o;
    });

    private static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    [Fact]
    public async Task DecodeEqualsTheLibraryForOneSequenceAndABatch()
    {
        await using var server = await StartAsync();
        var bert = TokenizerLoader.FromDirectory(TestServer.MlmDir);
        var a = bert.Encode("A gorgeous, witty movie; isn't it?").Ids;
        var b = bert.Encode("dull").Ids;

        // One sequence: still a list (TEI's DecodeResponse), special tokens skipped by default.
        var one = Strings(await server.PostOkAsync("/decode", JsonSerializer.Serialize(new { ids = a })));
        Assert.Equal([bert.Decode(a)], one);
        Assert.DoesNotContain("[CLS]", one[0]);
        var kept = Strings(await server.PostOkAsync("/decode", JsonSerializer.Serialize(new { ids = a, skip_special_tokens = false, model = "mlm" })));
        Assert.Equal([bert.Decode(a, skipSpecialTokens: false)], kept);
        Assert.StartsWith("[CLS] ", kept[0]);

        var batch = Strings(await server.PostOkAsync("/decode", JsonSerializer.Serialize(new { ids = new[] { a, b } })));
        Assert.Equal([bert.Decode(a), bert.Decode(b)], batch);

        // Byte-level BPE and SentencePiece models by name: accents, CJK and emoji come back whole.
        foreach (var (name, dir, text) in new[] { ("rob", Roberta, "Crème brûlée, 東京 😀 isn't it?"), ("xlmr", Xlmr, "Hello world, it's a test.") })
        {
            var tok = TokenizerLoader.FromDirectory(dir);
            var ids = tok.Encode(text).Ids;
            var got = Strings(await server.PostOkAsync("/decode", JsonSerializer.Serialize(new { ids, model = name })));
            Assert.Equal([text], got);
            got = Strings(await server.PostOkAsync("/decode", JsonSerializer.Serialize(new { ids = new[] { ids }, model = name, skip_special_tokens = false })));
            Assert.Equal([tok.Decode(ids, false)], got);
        }
    }

    [Theory]
    [InlineData("{\"ids\":[]}", 422, "'ids' is an empty array")]
    [InlineData("{\"ids\":[[]]}", 422, "'ids[0]' is an empty array")]
    [InlineData("{\"ids\":[[101],[]]}", 422, "'ids[1]' is an empty array")]
    [InlineData("{\"id\":[1]}", 422, "'ids' is missing")]
    [InlineData("{\"ids\":\"101 102\"}", 422, "'ids' must be an array")]
    [InlineData("{\"ids\":[101,1.5]}", 422, "'ids[1]' must be a non-negative integer token id, got 1.5")]
    [InlineData("{\"ids\":[-1]}", 422, "'ids[0]' must be a non-negative integer token id, got -1")]
    [InlineData("{\"ids\":[\"101\"]}", 422, "'ids[0]' must be a non-negative integer token id")]
    [InlineData("{\"ids\":[4294967296]}", 422, "'ids[0]' must be a non-negative integer token id")]
    [InlineData("{\"ids\":[[101],102]}", 422, "'ids[1]' must be an array of token ids")]
    [InlineData("{\"ids\":[101],\"skip_special_tokens\":\"no\"}", 422, "'skip_special_tokens' must be a boolean")]
    [InlineData("{\"ids\":[101, 30522]}", 422, "token id 30522 (position 1) is outside the vocabulary (ids 0..30521) of model 'mlm'")]
    [InlineData("{\"ids\":[[101],[7, 2147483647]]}", 422, "ids[1]: token id 2147483647 (position 1) is outside the vocabulary")]
    [InlineData("{\"ids\":[0, 50264, 50265],\"model\":\"rob\"}", 422, "token id 50265 (position 2)")]
    [InlineData("{\"ids\":[1],\"model\":\"nope\"}", 404, "model 'nope' is not served")]
    [InlineData("not json", 422, "not valid JSON")]
    public async Task BadDecodeRequestsGetTeiErrors(string body, int status, string message)
    {
        await using var server = await StartAsync();
        await ExpectError(server, body, status, message);
    }

    [Fact]
    public async Task TooManySequencesIs413()
    {
        await using var server = await StartAsync();
        var many = Enumerable.Range(0, 257).Select(i => new[] { 101, 1000 + i, 102 }).ToArray();
        await ExpectError(server, JsonSerializer.Serialize(new { ids = many }), 413, "the limit is 256");
        var ok = Strings(await server.PostOkAsync("/decode", JsonSerializer.Serialize(new { ids = many[..256] })));
        Assert.Equal(256, ok.Length);
    }

    [Fact]
    public async Task DecodeNeedsTheApiKeyLikeTheOtherRoutes()
    {
        const string key = "decode-key-41b2";
        await using var server = await StartAsync(o => o with { ApiKey = new ApiKey(key) });
        foreach (var auth in new AuthenticationHeaderValue?[] { null, new("Bearer", "wrong") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/decode") { Content = new StringContent("{\"ids\":[101,102]}") };
            request.Headers.Authorization = auth;
            using var response = await server.Client.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            Assert.Equal(401, (int)response.StatusCode);
            Assert.Equal("Unauthorized", JsonDocument.Parse(text).RootElement.GetProperty("error_type").GetString());
            Assert.DoesNotContain(key, text);
        }
        server.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal([""], Strings(await server.PostOkAsync("/decode", "{\"ids\":[101,102]}")));
    }

    private static async Task ExpectError(TestServer server, string body, int status, string message)
    {
        using var response = await server.PostAsync("/decode", body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement;
        Assert.Equal("Validation", error.GetProperty("error_type").GetString());
        Assert.Contains(message, error.GetProperty("error").GetString());
    }
}
