using System.Text.Json;
using NativeTransformer.Evaluation;
using NativeTransformer.Tests.Cli;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tasks;

/// <summary>CoNLL-2003 entity F1 (conlleval chunks) and its reproduction of bert-mini-ner's reference figure.</summary>
public class ConllNerTests(ITestOutputHelper output)
{
    private static string Data => TestPaths.Data("conll2003", "valid.txt");

    [Fact]
    public void ChunksFollowConllevalRules()
    {
        Assert.Equal([(0, 2, "PER"), (3, 4, "LOC")], ConllNer.Chunks(["B-PER", "I-PER", "O", "B-LOC"]).OrderBy(c => c.Start));
        // I- after O, or after another type, starts a chunk; B- after I- of the same type does too.
        Assert.Equal([(1, 2, "ORG"), (2, 3, "LOC"), (3, 4, "LOC")], ConllNer.Chunks(["O", "I-ORG", "I-LOC", "B-LOC"]).OrderBy(c => c.Start));
        Assert.Equal([(0, 3, "MISC")], ConllNer.Chunks(["B-MISC", "I-MISC", "I-MISC"]));
        Assert.Empty(ConllNer.Chunks(["O", "O"]));
    }

    [Fact]
    public void MalformedDataIsRefusedNamingTheLine()
    {
        var e = Assert.Throws<InputException>(() => ConllNer.Read(["EU###B-ORG rejects###O", "German###B-MISC call"], "x.txt"));
        Assert.Contains("x.txt: line 2", e.Message);
        e = Assert.Throws<InputException>(() => ConllNer.Read(["EU###B-ORG rejects###X-Y"], "x.txt"));
        Assert.Contains("not O, B-TYPE or I-TYPE", e.Message);
        var s = ConllNer.Read(["a###b###O"], "x.txt")[0]; // the last ### separates the tag
        Assert.Equal(("a###b", "O"), (s.Words[0], s.Tags[0]));
    }

    [Fact]
    public void Bert_mini_ner_ReproducesTheReferenceEntityF1()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Model("bert-mini-ner"), "REFERENCE_ACCURACY.json")));
        var reference = doc.RootElement.GetProperty("conll2003_valid");
        var sentences = ConllNer.Read(File.ReadLines(Data), Data);

        using var model = TransformerModel.Load(TestPaths.Model("bert-mini-ner"));
        var r = ConllNer.Evaluate(model, sentences);
        output.WriteLine($"max length {model.MaxLength}: F1 {r.F1:F4} P {r.Precision:F4} R {r.Recall:F4}, words {r.WordsScored}/{r.Words}; reference F1 {reference.GetProperty("entity_f1").GetDouble():F4}");
        Assert.Equal(3250, r.Sentences);
        Assert.Equal(r.Words, r.WordsScored); // nothing cut at 512 tokens
        Assert.InRange(r.F1, reference.GetProperty("entity_f1").GetDouble() - 0.005, reference.GetProperty("entity_f1").GetDouble() + 0.005);

        // The reference ran at max_length 64, which cuts 370 words: at 64 we score exactly its words, with the same
        // predictions (word accuracy and precision equal; its recall also left the cut words' gold entities out).
        using var short64 = TransformerModel.Load(TestPaths.Model("bert-mini-ner"), new LoadOptions { MaxLength = 64 });
        var r64 = ConllNer.Evaluate(short64, sentences);
        output.WriteLine($"max length 64: F1 {r64.F1:F4} P {r64.Precision:F4} word acc {r64.WordAccuracy:F6}, words {r64.WordsScored}");
        Assert.Equal(reference.GetProperty("n_words_scored").GetInt32(), r64.WordsScored);
        Assert.Equal(reference.GetProperty("token_acc_first_subtoken").GetDouble(), r64.WordAccuracy, 1e-4);
        Assert.Equal(reference.GetProperty("entity_precision").GetDouble(), r64.Precision, 1e-3);
    }

    [Fact]
    public void CliEvalConll2003()
    {
        var ok = CliRunner.Run("eval", "--task", "conll2003", "--data", Data, "--model", TestPaths.Model("bert-mini-ner"), "--no-pack-cache");
        Assert.Equal(0, ok.ExitCode);
        using var doc = JsonDocument.Parse(ok.Stdout);
        Assert.Equal("conll2003", doc.RootElement.GetProperty("task").GetString());
        Assert.InRange(doc.RootElement.GetProperty("f1").GetDouble(), 65.07, 66.07);
        CliRunner.Run("eval", "--task", "conll2003", "--data", Data, "--model", TestPaths.Model("bert-tiny-sst2"))
            .AssertOneLineError(1, "no token-classification head");
    }
}
