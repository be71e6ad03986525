using System.Text.Json;
using NativeTransformer.Tests.Cli;
using NativeTransformer.Tests.Serving;

namespace NativeTransformer.Tests.RealModels;

/// <summary>snowflake-arctic-embed-xs's "query" prompt (config_sentence_transformers.json): naming it equals embedding the
/// prefixed text, in the library, <c>ntr embed</c> and <c>ntr serve</c>.</summary>
[Collection(RealModelsCollection.Name)]
public class RealModelPromptTests(RealModelsFixture models)
{
    private const string Query = "Represent this sentence for searching relevant passages: ";
    private const string Text = "how do solar panels work?";

    private static float[] Embedding(CliResult run)
    {
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var doc = JsonDocument.Parse(Assert.Single(run.StdoutLines));
        return doc.RootElement.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
    }

    [Fact]
    public void QueryPromptEqualsThePrefixedText()
    {
        string dir = models.Dir(RealModelsFixture.Arctic);
        using var model = TransformerModel.Load(dir, new LoadOptions { Threads = 2 });
        Assert.Equal(Query, model.Prompts.Prompts["query"]);
        Assert.Null(model.Prompts.DefaultPromptName);
        var prefixed = model.Embed([new TextInput(Query + Text)])[0];
        var plain = model.Embed([new TextInput(Text)])[0];
        Assert.Equal(prefixed, model.Embed([new TextInput(Text)], "query", null)[0]);
        Assert.Equal(prefixed, model.Embed([new TextInput(Text)], null, Query)[0]);
        Assert.True(Models.Diff.MaxAbs(prefixed, plain) > 0.01f, "the prompt must change the embedding");

        Assert.Equal(prefixed, Embedding(CliRunner.Run("embed", "--model", dir, "--prompt-name", "query", Text)));
        Assert.Equal(prefixed, Embedding(CliRunner.Run("embed", "--model", dir, "--prompt", Query, Text)));
        Assert.Equal(prefixed, Embedding(CliRunner.Run("embed", "--model", dir, Query + Text)));
        Assert.Equal(plain, Embedding(CliRunner.Run("embed", "--model", dir, Text)));

        CliRunner.Run("embed", "--model", dir, "--prompt-name", "passage", Text).AssertOneLineError(1, "unknown prompt name 'passage'; this model's prompts: query");
        CliRunner.Run("embed", "--model", dir, "--prompt-name", "query", "--prompt", "x", Text).AssertOneLineError(2, "exclude each other");
        // ntr serve checks --prompt-name against every served folder before it starts.
        CliRunner.Run("serve", "--model", "arctic=" + dir, "--port", "0", "--prompt-name", "passage").AssertOneLineError(1, "model 'arctic'");
        var e = Assert.Throws<InputException>(() => model.Embed([new TextInput(Text)], "passage", null));
        Assert.Contains("query", e.Message);
    }

    [Fact]
    public async Task ServeAcceptsPromptNameAndPrompt()
    {
        string dir = models.Dir(RealModelsFixture.Arctic);
        float[] prefixed, plain;
        using (var model = TransformerModel.Load(dir, new LoadOptions { Threads = 1 }))
        {
            prefixed = model.Embed([new TextInput(Query + Text)])[0];
            plain = model.Embed([new TextInput(Text)])[0];
        }
        await using var server = await TestServer.StartAsync(o => o with { Models = new Dictionary<string, string> { ["arctic"] = dir } });
        static float[] First(JsonElement r) => r.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(prefixed, First(await server.PostOkAsync("/v1/embeddings", TestServer.Body(Text, "arctic", "\"prompt_name\":\"query\""))));
        Assert.Equal(prefixed, First(await server.PostOkAsync("/v1/embeddings", TestServer.Body(Text, "arctic", "\"prompt\":" + JsonSerializer.Serialize(Query)))));
        // The same text without a prompt is not served from the prompted result's cache entry.
        Assert.Equal(plain, First(await server.PostOkAsync("/v1/embeddings", TestServer.Body(Text, "arctic"))));

        using var unknown = await server.PostAsync("/v1/embeddings", TestServer.Body(Text, "arctic", "\"prompt_name\":\"passage\""));
        Assert.Equal(400, (int)unknown.StatusCode);
        Assert.Contains("this model's prompts: query", await unknown.Content.ReadAsStringAsync());
        using var both = await server.PostAsync("/v1/embeddings", TestServer.Body(Text, "arctic", "\"prompt_name\":\"query\",\"prompt\":\"x\""));
        Assert.Equal(400, (int)both.StatusCode);
        using var classify = await server.PostAsync("/v1/classify", TestServer.Body(Text, "arctic", "\"prompt_name\":\"query\""));
        Assert.Equal(400, (int)classify.StatusCode);
    }
}
