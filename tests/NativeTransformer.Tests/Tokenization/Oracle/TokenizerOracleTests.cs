using System.Diagnostics;
using System.Text.Json.Nodes;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>
/// Our tokenizers against Hugging Face's Rust tokenizers, for every distinct tokenizer.json of ../shared/models:
/// ids with and without special tokens, and pairs, must be identical on every GLUE/STS sentence and on seeded random
/// Unicode. A folder whose tokenizer family the loader does not support yet is reported as skipped (with the loader's
/// message), never as passed; it runs as soon as the loader accepts it.
/// </summary>
public sealed class TokenizerOracleTests(ITestOutputHelper output)
{
    public static TheoryData<string> Folders() => OracleTokenizerFolders.FolderNames();

    /// <summary>Random strings per tokenizer, and how many consecutive ones are also encoded as pairs.</summary>
    private const int RandomCount = 50_000, RandomPairCount = 10_000, RandomSeed = 20240611;

    [SkippableTheory]
    [MemberData(nameof(Folders))]
    public void GlueSentences_match_HuggingFace(string folder)
    {
        var (ours, theirs, group) = Load(folder);
        using var _ = theirs;
        var cmp = new OracleComparison(ours, theirs);
        var sw = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        // The reference's cost dominates (~5 s CPU per tokenizer for the ~95k sentences in each mode). WordPiece gets
        // every sentence in both modes; the other families every sentence without special tokens and every 4th with
        // them (adding special tokens does not depend on the text; pairs and the random set cover it fully), which
        // keeps the whole oracle suite under a minute of CPU once all families load.
        int specialEvery = ModelType(group) == "WordPiece" ? 1 : 4;
        var sentences = OracleCorpora.GlueSentences;
        for (int i = 0; i < sentences.Length; i++) cmp.Single(sentences[i], withSpecial: i % specialEvery == 0);
        foreach (var (a, b) in OracleCorpora.GluePairs) Assert.True(cmp.Pair(a, b), theirs.PairTemplateDescription);
        output.WriteLine($"{group.Folder} ({string.Join(", ", group.AllFolders)}): {cmp.Compared} inputs in {sw.Elapsed.TotalSeconds:F1} s ({(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1} s CPU of the test process); pairs: {theirs.PairTemplateDescription}");
        Assert.True(cmp.Differences.Count == 0, cmp.Report($"{folder} GLUE/STS sentences vs HF tokenizers"));
        Assert.True(cmp.Compared > 100_000, $"only {cmp.Compared} inputs were compared");
    }

    [SkippableTheory]
    [MemberData(nameof(Folders))]
    public void RandomUnicode_matches_HuggingFace(string folder)
    {
        var (ours, theirs, group) = Load(folder);
        using var _ = theirs;
        var inputs = OracleCorpora.RandomUnicode(RandomCount, RandomSeed);
        var cmp = new OracleComparison(ours, theirs);
        var sw = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var s in inputs) cmp.Single(s);
        for (int i = 0; i + 1 < 2 * RandomPairCount && i + 1 < inputs.Length; i += 2) Assert.True(cmp.Pair(inputs[i], inputs[i + 1]));
        output.WriteLine($"{group.Folder}: {cmp.Compared} random inputs in {sw.Elapsed.TotalSeconds:F1} s ({(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1} s CPU of the test process) ({cmp.SkippedLoneSurrogates} skipped)");
        Assert.True(cmp.Differences.Count == 0, cmp.Report($"{folder} random Unicode (seed {RandomSeed}) vs HF tokenizers"));
        Assert.Equal(RandomCount + RandomPairCount, cmp.Compared);
    }

    /// <summary>Loads both tokenizers. Skips (not passes) a non-WordPiece file while our loader reports its family as
    /// unsupported, or, as today's WordPiece-only loader does, looks for a vocab.txt the folder does not have; any other
    /// load failure, and every WordPiece load failure, fails the test.</summary>
    internal static (ITokenizer Ours, HfOracleTokenizer Theirs, OracleTokenizerFolders.Group Group) Load(string folder)
    {
        var group = OracleTokenizerFolders.ByFolder(folder);
        ITokenizer ours;
        try { ours = TokenizerLoader.FromDirectory(TestPaths.Model(folder)); }
        catch (TokenizerException e) when (ModelType(group) != "WordPiece" && LooksUnsupported(e))
        {
            Skip.If(true, $"TokenizerLoader does not support this {ModelType(group)} tokenizer.json yet: {e.Message}");
            throw;
        }
        return (ours, new HfOracleTokenizer(group.TokenizerJson), group);
    }

    private static bool LooksUnsupported(TokenizerException e) =>
        e.Message.Contains("unsupported", StringComparison.OrdinalIgnoreCase) ||
        e.Message.Contains("not supported", StringComparison.OrdinalIgnoreCase) ||
        e.Message.Contains("vocab.txt", StringComparison.Ordinal);

    /// <summary>model.type of the tokenizer.json ("BPE", "Unigram", "WordPiece"; a BPE file may omit it).</summary>
    internal static string ModelType(OracleTokenizerFolders.Group group)
    {
        var model = JsonNode.Parse(File.ReadAllText(group.TokenizerJson))!["model"]!;
        return (string?)model["type"] ?? (model["merges"] is not null ? "BPE" : model["unk_id"] is not null ? "Unigram" : "?");
    }
}
