using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>The model folders of ../shared/models that have a tokenizer.json, grouped by the file's content so that
/// one tokenizer is checked once (many folders share bert-base-uncased's). The content is hashed with "truncation" and
/// "padding" removed, as the comparison runs without them: files that differ only there are the same tokenizer.</summary>
internal static class OracleTokenizerFolders
{
    /// <summary>One distinct tokenizer.json: the first folder holding it (sorted by name) and all folders that do.</summary>
    public sealed record Group(string Folder, string[] AllFolders)
    {
        public string TokenizerJson => Path.Combine(TestPaths.Model(Folder), "tokenizer.json");
        public override string ToString() => Folder;
    }

    public static IReadOnlyList<Group> Groups { get; } = Discover();

    private static Group[] Discover()
    {
        string models = Path.Combine(TestPaths.Shared, "models");
        return Directory.GetDirectories(models)
            .Where(d => File.Exists(Path.Combine(d, "tokenizer.json")))
            .Select(d => (Name: Path.GetFileName(d), Hash: ContentHash(Path.Combine(d, "tokenizer.json"))))
            .GroupBy(x => x.Hash)
            .Select(g =>
            {
                var names = g.Select(x => x.Name).Order(StringComparer.Ordinal).ToArray();
                return new Group(names[0], names);
            })
            .OrderBy(g => g.Folder, StringComparer.Ordinal)
            .ToArray();
    }

    private static string ContentHash(string tokenizerJson)
    {
        var root = JsonNode.Parse(File.ReadAllText(tokenizerJson))!.AsObject();
        root.Remove("truncation");
        root.Remove("padding");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(root.ToJsonString())));
    }

    /// <summary>xunit theory data: one row per distinct tokenizer.json, named by its first folder.</summary>
    public static TheoryData<string> FolderNames()
    {
        var data = new TheoryData<string>();
        foreach (var g in Groups) data.Add(g.Folder);
        return data;
    }

    public static Group ByFolder(string folder) => Groups.Single(g => g.Folder == folder);
}
