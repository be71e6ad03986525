using NativeTransformer.Tests.Cli;
using NativeTransformer.Tests.Models;
using NativeTransformer.Weights;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tasks;

/// <summary>bert-mini-ner (BertForTokenClassification) against the PyTorch reference, and the token head's contracts.</summary>
public class TokenClassificationParityTests(ITestOutputHelper output)
{
    private const string ModelName = "bert-mini-ner";

    [Fact]
    public void TokenLogitsAndPredictedLabelsMatchPyTorch()
    {
        using var reference = ReferenceSet.Load(ModelName);
        using var model = TransformerModel.Load(TestPaths.Model(ModelName), new LoadOptions { MaxLength = reference.MaxLength });
        Assert.True(model.HasTokenClassifier);
        Assert.False(model.HasClassifier); // its classifier reads every token: not a sequence classifier
        Assert.Equal(9, model.NumLabels);

        // Our tokenizer gives the reference ids, so the public Encode path is what is compared.
        var result = model.Encode(reference.Inputs);
        var mask = reference.Long("attention_mask");
        Assert.Equal(reference.Long("input_ids"), Array.ConvertAll(result.Batch.InputIds, v => (long)v));
        Assert.True(result.LogitsPerToken);
        int c = model.NumLabels;
        var expected = reference.Float("logits");
        float worst = Diff.MaxAbsMasked(expected, result.Logits!, mask, c);
        output.WriteLine($"token logits: max|diff| = {worst:E2} over mask-1 positions");
        Assert.True(worst < 1e-4f, $"token logits max|diff| {worst}");

        var predicted = reference.Long("predicted_label_ids");
        int compared = 0;
        for (int t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0) continue;
            compared++;
            Assert.Equal(predicted[t], (long)NativeTransformer.Tasks.EntityAggregator.ArgMax(result.Logits.AsSpan(t * c, c)));
        }
        output.WriteLine($"predicted_label_ids: {compared}/{compared} equal");
    }

    [Fact]
    public void TagEntitiesNoneAggregationReportsTheReferenceLabelOfEveryNonOToken()
    {
        using var reference = ReferenceSet.Load(ModelName);
        using var model = TransformerModel.Load(TestPaths.Model(ModelName), new LoadOptions { MaxLength = reference.MaxLength });
        var predicted = reference.Long("predicted_label_ids");
        var mask = reference.Long("attention_mask");
        int seq = mask.Length / reference.Inputs.Length, checkedRows = 0;
        var labels = model.TokenLabels();
        for (int r = 0; r < reference.Inputs.Length; r++)
        {
            if (reference.Inputs[r].TextPair is not null) continue;
            string text = reference.Inputs[r].Text;
            var tagging = model.TagEntities([text], EntityAggregation.None)[0];
            var expected = new List<(int, string)>();
            for (int t = 1; t < seq && mask[r * seq + t] == 1; t++)
                if (labels[predicted[r * seq + t]] != "O" && !(t + 1 >= seq || mask[r * seq + t + 1] == 0)) // last real token is [SEP]
                    expected.Add((t, labels[predicted[r * seq + t]]));
            Assert.Equal(expected, tagging.Entities.Select(e => (e.Index!.Value, e.Label)).ToList());
            foreach (var e in tagging.Entities) Assert.Equal(text[e.Start..e.End], e.Word);
            Assert.Equal(r == 36, tagging.Truncated); // item 36 exceeds max_length 64 (public.json: truncated)
            checkedRows++;
        }
        Assert.True(checkedRows >= 40);
    }

    [Fact]
    public void TagEntitiesFindsThePeopleAndPlacesOfTheFirstSentence()
    {
        using var model = TransformerModel.Load(TestPaths.Model(ModelName));
        const string text = "Angela Merkel met Emmanuel Macron in Paris on Tuesday .";
        var first = model.TagEntities([text], EntityAggregation.First)[0];
        Assert.False(first.Truncated);
        Assert.Equal([("PER", "Angela Merkel", 0, 13), ("PER", "Emmanuel Macron", 18, 33), ("LOC", "Paris", 37, 42)],
            first.Entities.Select(e => (e.Label, e.Word, e.Start, e.End)).ToArray());
        // simple splits "Mer|kel" where the pieces disagree; first/average/max never split a word.
        var simple = model.TagEntities([text], EntityAggregation.Simple)[0];
        Assert.Contains(simple.Entities, e => e.Word == "Angela Mer");
        foreach (var a in new[] { EntityAggregation.First, EntityAggregation.Average, EntityAggregation.Max })
            foreach (var e in model.TagEntities([text], a)[0].Entities)
                Assert.True((e.Start == 0 || text[e.Start - 1] == ' ') && (e.End == text.Length || text[e.End] == ' '), $"{a}: '{e.Word}' is not whole words");
    }

    [Fact]
    public void LongTextIsReportedTruncated()
    {
        using var model = TransformerModel.Load(TestPaths.Model(ModelName), new LoadOptions { MaxLength = 16 });
        string text = string.Join(' ', Enumerable.Repeat("John Smith visited Paris .", 10));
        var tagging = model.TagEntities([text, "Paris"])!;
        Assert.True(tagging[0].Truncated);
        Assert.False(tagging[1].Truncated);
        Assert.All(tagging[0].Entities, e => Assert.True(e.End <= 78)); // the 14 text tokens that fit end at "Paris" of the third sentence (73..78)
    }

    [Fact]
    public void ModelWithoutTokenHeadIsAClearError()
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"));
        Assert.False(model.HasTokenClassifier);
        var e = Assert.Throws<InputException>(() => model.TagEntities(["Paris"]));
        Assert.Contains("no token-classification head", e.Message);
        using var ner = TransformerModel.Load(TestPaths.Model(ModelName));
        Assert.Contains("token classifier", Assert.ThrowsAny<NativeTransformerException>(() => ner.Classify(["Paris"])).Message);
    }

    [Fact]
    public void TokenClassifierConfigWithoutTheClassifierWeightIsAWeightError()
    {
        using var folder = TempModelFolder.CopyOf("bert-tiny-mlm");
        string config = File.ReadAllText(folder.FilePath("config.json"));
        folder.Write("config.json", config.Replace("BertForMaskedLM", "BertForTokenClassification"));
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
        Assert.Contains("classifier.weight: missing", e.Message);
    }

    [Fact]
    public void DistilBertTokenClassifierBindsTheClassifierOnEveryToken()
    {
        // distilbert-mini-sst2 relabelled DistilBertForTokenClassification: the 2-label classifier then reads every
        // token and pre_classifier is unused (a real DistilBertForTokenClassification has none).
        using var folder = TempModelFolder.CopyOf("distilbert-mini-sst2");
        string config = File.ReadAllText(folder.FilePath("config.json"));
        folder.Write("config.json", config.Replace("DistilBertForSequenceClassification", "DistilBertForTokenClassification"));
        using var model = TransformerModel.Load(folder.Path);
        Assert.True(model.HasTokenClassifier);
        Assert.False(model.HasClassifier);
        var r = model.Encode([new TextInput("a gorgeous movie"), new TextInput("dull")]);
        Assert.Equal(r.Batch.BatchSize * r.Batch.SeqLen * 2, r.Logits!.Length);
        Assert.Contains(TransformerModel.Inspect(folder.Path).OutputHeads, h => h.StartsWith("token-classifier (2 labels"));
    }

    [Fact]
    public void CliNerWritesEntitiesAndEncodeWritesPerTokenLogits()
    {
        string dir = TestPaths.Model(ModelName);
        var ner = CliRunner.RunWithStdin("Barack Obama was born in Honolulu , Hawaii .\n\n", "ner", "--model", dir, "--aggregation", "first", "--no-pack-cache");
        Assert.Equal(0, ner.ExitCode);
        Assert.Equal(2, ner.StdoutLines.Length);
        Assert.StartsWith("{\"text\":\"Barack Obama was born in Honolulu , Hawaii .\",\"entities\":[{\"entity_group\":\"PER\",", ner.StdoutLines[0]);
        Assert.Contains("\"word\":\"Barack Obama\",\"start\":0,\"end\":12}", ner.StdoutLines[0]);
        Assert.EndsWith("\"truncated\":false}", ner.StdoutLines[0]);
        Assert.Equal("{\"text\":\"\",\"entities\":[],\"truncated\":false}", ner.StdoutLines[1]);

        var none = CliRunner.Run("ner", "--model", dir, "--aggregation", "none", "--max-length", "4", "--no-pack-cache", "Barack Obama was born");
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("{\"entity\":\"I-PER\",\"score\":", none.Stdout); // full labels, not groups
        Assert.Contains("\"index\":1,\"word\":\"Barack\",\"start\":0,\"end\":6}", none.Stdout);
        Assert.EndsWith("\"truncated\":true}\n", none.Stdout);

        CliRunner.Run("ner", "--model", dir, "--aggregation", "longest", "x").AssertOneLineError(2, "none, simple, first, average, max");
        CliRunner.Run("ner", "--model", TestPaths.Model("bert-tiny-sst2"), "x").AssertOneLineError(1, "no token-classification head");
        CliRunner.RunWithStdin("{\"text\": \"a\", \"text_pair\": \"b\"}\n", "ner", "--model", dir, "--jsonl").AssertOneLineError(1, "text_pair");

        var tmp = Directory.CreateTempSubdirectory("nt-ner-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(tmp, "in.json"), "[{\"text\": \"Paris\"}, {\"text\": \"John Smith plays\"}]");
            var enc = CliRunner.Run("encode", "--model", dir, "--input", Path.Combine(tmp, "in.json"), "--output", Path.Combine(tmp, "out.safetensors"), "--no-pack-cache");
            Assert.Equal(0, enc.ExitCode);
            using var file = SafetensorsFile.Open(Path.Combine(tmp, "out.safetensors"));
            var ids = file.GetInfo("input_ids").Shape;
            Assert.Equal([ids[0], ids[1], 9L], file.GetInfo("logits").Shape);
        }
        finally { Directory.Delete(tmp, recursive: true); }
    }
}
