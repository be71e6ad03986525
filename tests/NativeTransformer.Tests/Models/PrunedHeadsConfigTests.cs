using NativeTransformer.Models;

namespace NativeTransformer.Tests.Models;

/// <summary>config.json pruned_heads: parsed into original head indices per layer, validated with errors naming the field.</summary>
public sealed class PrunedHeadsConfigTests
{
    private static string Bert(string prunedHeads) =>
        $$"""{"model_type":"bert","vocab_size":100,"hidden_size":32,"num_hidden_layers":3,"num_attention_heads":4,"intermediate_size":64,"pruned_heads":{{prunedHeads}}}""";

    [Fact]
    public void ParsesOriginalIndicesPerLayer()
    {
        var c = ModelConfig.Parse(Bert("""{"0":[3,1],"2":[],"1":[0]}"""));
        Assert.Equal([1, 3], c.PrunedHeads[0]);
        Assert.False(c.PrunedHeads.ContainsKey(2));
        Assert.Equal(2, c.HeadsInLayer(0));
        Assert.Equal(3, c.HeadsInLayer(1));
        Assert.Equal(4, c.HeadsInLayer(2));
        Assert.Equal(8, c.HeadSize); // D is unchanged by pruning
        Assert.Empty(ModelConfig.Parse(Bert("{}")).PrunedHeads);
    }

    [Fact]
    public void KeepLayersRenumbersTheKeys()
    {
        var c = ModelConfig.Parse(Bert("""{"0":[3],"2":[0,1]}""")).KeepLayers([1, 2]);
        Assert.Equal(2, c.NumLayers);
        Assert.Equal(4, c.HeadsInLayer(0));
        Assert.Equal(2, c.HeadsInLayer(1));
    }

    [Theory]
    [InlineData("""{"3":[0]}""", "pruned_heads key \"3\" is not a layer index in 0..2")]
    [InlineData("""{"-1":[0]}""", "pruned_heads key \"-1\"")]
    [InlineData("""{"x":[0]}""", "pruned_heads key \"x\"")]
    [InlineData("""{"0":[4]}""", "pruned_heads[\"0\"] names head 4; heads are 0..3")]
    [InlineData("""{"0":[-1]}""", "names head -1")]
    [InlineData("""{"1":[2,2]}""", "names head 2 twice")]
    [InlineData("""{"2":[0,1,2,3]}""", "removes all 4 heads of layer 2")]
    [InlineData("""{"0":null}""", "pruned_heads[\"0\"] is null")]
    [InlineData("""{"0":["a"]}""", "pruned_heads")]
    public void BadPrunedHeadsAreConfigErrors(string prunedHeads, string message)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(Bert(prunedHeads), "m/config.json"));
        Assert.Contains(message, e.Message);
        Assert.Contains("m/config.json", e.Message);
    }

    [Fact]
    public void AlbertKeysAreLayerGroups()
    {
        const string albert = """{"model_type":"albert","vocab_size":100,"hidden_size":32,"num_hidden_layers":4,"num_attention_heads":4,"intermediate_size":64,"num_hidden_groups":1,"pruned_heads":{"1":[0]}}""";
        Assert.Contains("0..0", Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(albert)).Message);
        Assert.Equal(3, ModelConfig.Parse(albert.Replace("\"1\":[0]", "\"0\":[0]")).HeadsInLayer(0));
    }
}
