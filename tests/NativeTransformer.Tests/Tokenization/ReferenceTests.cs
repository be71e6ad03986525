using System.Text.Json;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>
/// reference/&lt;model&gt;/public.json + public.safetensors: the batch HF produced (input_ids, token_type_ids,
/// attention_mask; right padded to the longest row; max_length from the JSON) must be reproduced exactly, and
/// so must the token strings recorded per item.
/// </summary>
public class ReferenceTests
{
    public static IEnumerable<object[]> Models() =>
        Directory.Exists(TestPaths.Shared)
            ? Directory.GetDirectories(Path.Combine(TestPaths.Shared, "reference"))
                .Where(d => File.Exists(Path.Combine(d, "public.json")) && Directory.Exists(TestPaths.Model(Path.GetFileName(d))))
                .Select(d => new object[] { Path.GetFileName(d) })
            : [];

    [Fact]
    public void AllFiveReferenceModelsAreFound() => Assert.True(Models().Count() >= 5);

    /// <summary>The pair-truncation rule the reference was made with: the newer references name the Rust tokenizers'
    /// rule in "truncation"; the older ones were made with transformers' slow (Python) longest_first.</summary>
    internal static PairTruncationStrategy PairRule(JsonElement tokenizer) =>
        tokenizer.TryGetProperty("truncation", out var t) && t.ValueKind == JsonValueKind.String && t.GetString()!.Contains("tokenizers-rs", StringComparison.Ordinal)
            ? PairTruncationStrategy.LongestFirstRust
            : PairTruncationStrategy.LongestFirst;

    [Theory]
    [MemberData(nameof(Models))]
    public void BatchMatchesReference(string model)
    {
        var dir = TestPaths.Reference(model);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "public.json")));
        var root = doc.RootElement;
        int maxLength = root.GetProperty("tokenizer").GetProperty("max_length").GetInt32();
        var inputs = new List<(string, string?)>();
        var expectedTokens = new List<string[]>();
        foreach (var item in root.GetProperty("items").EnumerateArray())
        {
            if (item.TryGetProperty("pair", out var pair) && pair.ValueKind == JsonValueKind.Array)
                inputs.Add((pair[0].GetString()!, pair[1].GetString()));
            else
                inputs.Add((item.GetProperty("text").GetString()!, null));
            expectedTokens.Add(item.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!).ToArray());
        }

        var tok = TokenizerLoader.FromDirectory(TestPaths.Model(model), PairRule(root.GetProperty("tokenizer")));
        var batch = tok.EncodeBatch(inputs, maxLength);

        using var st = NativeTransformer.Weights.SafetensorsFile.Open(Path.Combine(dir, "public.safetensors"));
        var shape = st.GetInfo("input_ids").Shape;
        Assert.Equal(inputs.Count, (int)shape[0]);
        Assert.Equal((int)shape[1], batch.SeqLen);
        Assert.Equal(st.GetInt64("input_ids").Select(v => (int)v), batch.InputIds);
        Assert.Equal(st.GetInt64("token_type_ids").Select(v => (int)v), batch.TypeIds);
        Assert.Equal(st.GetInt64("attention_mask").Select(v => (int)v), batch.AttentionMask);
        for (int i = 0; i < inputs.Count; i++)
            Assert.Equal(expectedTokens[i], batch.Rows[i].Tokens);
    }
}
