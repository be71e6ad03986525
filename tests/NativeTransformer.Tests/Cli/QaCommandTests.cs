using System.Text.Json;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Cli;

/// <summary><c>ntr qa</c> and the QA tensors of <c>ntr encode</c>.</summary>
public class QaCommandTests
{
    private static readonly string QaModel = TestPaths.Model("bert-mini-qa");

    private const string Input =
        "{\"question\": \"What is the capital of France?\", \"context\": \"Paris is the capital and most populous city of France.\"}\n" +
        "{\"id\": 7, \"question\": \"Who wrote Hamlet?\", \"context\": \"Hamlet is a tragedy written by William Shakespeare.\"}\n";

    [Fact]
    public void AnswersEachLineAsTheLibraryDoes()
    {
        var r = CliRunner.RunWithStdin(Input, "qa", "--model", QaModel, "--jsonl");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.StdoutLines;
        Assert.Equal(2, lines.Length);
        using var model = TransformerModel.Load(QaModel);
        var expected = model.AnswerQuestion("Who wrote Hamlet?", "Hamlet is a tragedy written by William Shakespeare.")[0];
        using var doc = JsonDocument.Parse(lines[1]);
        var o = doc.RootElement;
        Assert.Equal(expected.Answer, o.GetProperty("answer").GetString());
        Assert.Equal(expected.Start, o.GetProperty("start").GetInt32());
        Assert.Equal(expected.End, o.GetProperty("end").GetInt32());
        Assert.Equal(expected.Score, o.GetProperty("score").GetSingle());
        Assert.Equal(["answer", "score", "start", "end"], o.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void TopKWritesAListAndOptionsReachTheLibrary()
    {
        var r = CliRunner.RunWithStdin(Input, "qa", "--model", QaModel, "--top-k", "3", "--max-answer-len", "2", "--handle-impossible-answer",
            "--max-seq-len", "128", "--doc-stride", "32");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var model = TransformerModel.Load(QaModel);
        var expected = model.AnswerQuestion("What is the capital of France?", "Paris is the capital and most populous city of France.",
            new QuestionAnsweringOptions { TopK = 3, MaxAnswerLen = 2, HandleImpossibleAnswer = true, MaxSeqLen = 128, DocStride = 32 });
        using var doc = JsonDocument.Parse(r.StdoutLines[0]);
        var list = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(3, list.Length);
        Assert.Equal(expected.Select(a => (a.Answer, a.Start)), list.Select(a => (a.GetProperty("answer").GetString()!, a.GetProperty("start").GetInt32())));
    }

    [Theory]
    [InlineData("{\"question\": \"\", \"context\": \"text\"}", "question is empty")]
    [InlineData("{\"question\": \"why?\", \"context\": \"\"}", "context is empty")]
    [InlineData("{\"question\": \"why?\"}", "missing \\\"context\\\"")]
    [InlineData("{\"question\": \"why?\", \"context\": \"x\", \"text\": \"y\"}", "unexpected key")]
    [InlineData("[1, 2]", "expected an object")]
    [InlineData("", "empty line")]
    public void BadLinesAreOneLineErrorsNamingTheLine(string line, string message)
    {
        var r = CliRunner.RunWithStdin("{\"question\": \"a?\", \"context\": \"b c\"}\n" + line + "\n", "qa", "--model", QaModel);
        r.AssertOneLineError(1, "line 2");
        Assert.Contains(message.Replace("\\\"", "\""), r.Stderr);
    }

    [Fact]
    public void ModelWithoutQuestionAnsweringHeadIsRefused() =>
        CliRunner.RunWithStdin(Input, "qa", "--model", TestPaths.Model("bert-tiny-sst2")).AssertOneLineError(1, "no question-answering head");

    [Fact]
    public void EncodeWritesStartAndEndLogits()
    {
        var dir = Directory.CreateTempSubdirectory("nt-qa-encode-").FullName;
        try
        {
            string input = Path.Combine(dir, "in.json"), output = Path.Combine(dir, "out.safetensors");
            File.WriteAllText(input, "[{\"text\": \"Who wrote Hamlet?\", \"text_pair\": \"Shakespeare did.\"}, {\"text\": \"a\", \"text_pair\": \"b\"}]");
            var r = CliRunner.Run("encode", "--model", QaModel, "--input", input, "--output", output);
            Assert.True(r.ExitCode == 0, r.Stderr);
            using var file = SafetensorsFile.Open(output);
            var ids = file.GetInfo("input_ids").Shape;
            Assert.Equal(ids, file.GetInfo("start_logits").Shape);
            Assert.Equal(ids, file.GetInfo("end_logits").Shape);
            Assert.Equal(DType.F32, file.GetInfo("end_logits").DType);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
