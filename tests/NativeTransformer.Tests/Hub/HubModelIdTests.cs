using NativeTransformer.Hub;

namespace NativeTransformer.Tests.Hub;

/// <summary>Which --model values are hub ids (owner/name[@revision]) and which are not.</summary>
public sealed class HubModelIdTests
{
    [Theory]
    [InlineData("org/name", "org/name", "main")]
    [InlineData("sentence-transformers/all-MiniLM-L6-v2@v1.0", "sentence-transformers/all-MiniLM-L6-v2", "v1.0")]
    [InlineData("a_b/c.d@refs/pr/1", "a_b/c.d", "refs/pr/1")]
    public void HubIdsParse(string value, string repo, string revision)
    {
        Assert.True(HubModelId.TryParse(value, out var id));
        Assert.Equal(repo, id.RepoId);
        Assert.Equal(revision, id.Revision);
    }

    [Theory]
    [InlineData("model")]
    [InlineData("./org/name")]
    [InlineData("/abs/model")]
    [InlineData("a/b/c")]
    [InlineData("../x")]
    [InlineData("org--x/name")]
    [InlineData("org/name@")]
    [InlineData("org/name@../../etc")]
    public void PathsAndMalformedIdsAreNotHubIds(string value) => Assert.False(HubModelId.TryParse(value, out _));
}
