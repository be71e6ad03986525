using System.Text.Json;
using System.Text.Json.Nodes;
using NativeTransformer.Tests.Training;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.WeightsTools;

/// <summary><c>weights-tools gradients</c>: the reference batch through our tokenizer gives PyTorch's gradients; bad input is refused.</summary>
public sealed class GradientsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "nt-gradients-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>ITEMS.json with the reference's 4 texts and labels (from its inputs.json).</summary>
    private string ReferenceItems(bool labels = true)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(GradientReferenceTests.RefDir, "inputs.json")));
        var items = new JsonArray();
        foreach (var item in doc.RootElement.GetProperty("items").EnumerateArray())
        {
            var o = new JsonObject { ["text"] = item.GetProperty("text").GetString() };
            if (labels) o["label"] = item.GetProperty("label").GetInt32();
            items.Add(o);
        }
        string path = Path.Combine(_dir, labels ? "items.json" : "items-nolabel.json");
        File.WriteAllText(path, items.ToJsonString());
        return path;
    }

    [Theory]
    [InlineData("ce", "ce", null)]
    [InlineData("kd", "kd", "bert-mini-sst2")]
    [InlineData("embedding-mse", "emb", "bert-tiny-mlm")]
    public void WritesTheLossAndEveryGradientAsPyTorchComputesThem(string loss, string prefix, string? teacher)
    {
        string output = Path.Combine(_dir, prefix + ".safetensors");
        string[] args = ["gradients", "--model", TestPaths.Model("bert-tiny-sst2"), "--input", ReferenceItems(), "--loss", loss,
            "--max-length", "32", "--threads", "2", "--output", output];
        if (teacher is not null) args = [.. args, "--teacher", TestPaths.Model(teacher), "--temperature", "2"];
        var run = MakeRandomRun.Run(args);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("1 truncated by --max-length", run.Stdout); // the long review, as in the reference

        using var mine = SafetensorsFile.Open(output);
        using var r = SafetensorsFile.Open(Path.Combine(GradientReferenceTests.RefDir, "loss_and_grads.safetensors"));
        Assert.Empty(mine.GetInfo("loss").Shape);
        float refLoss = r.GetFloat32($"fp32.{prefix}.loss").Span[0];
        Assert.True(Math.Abs(mine.GetFloat32("loss").Span[0] - refLoss) <= 1e-5 * refLoss);
        Assert.Equal(42, mine.Tensors.Count);

        var grads = NativeTransformer.Training.BertTrainingModel.Load(TestPaths.Model("bert-tiny-sst2")).Parameters.ZerosLike();
        foreach (var g in grads.All)
        {
            var info = mine.GetInfo("grad." + g.Name);
            Assert.Equal(g.Shape, info.Shape);
            mine.GetFloat32("grad." + g.Name).Span.CopyTo(g.Values);
        }
        GradientReferenceTests.CompareAll(r, prefix, grads);
    }

    /// <summary>A weighted objective in one pass: its kl and ce parts are PyTorch's (the reference's kd and ce losses), the total
    /// is their weighted sum plus the hidden-state term, and the 128 → 256 projection and its gradient are written apart.</summary>
    [Fact]
    public void WeightedObjectiveWithHiddenProjection()
    {
        string output = Path.Combine(_dir, "mixed.safetensors");
        var run = MakeRandomRun.Run("gradients", "--model", TestPaths.Model("bert-tiny-sst2"), "--input", ReferenceItems(), "--loss", "0.5*kl,0.25*ce,hidden-mse",
            "--teacher", TestPaths.Model("bert-mini-sst2"), "--max-length", "32", "--seed", "3", "--output", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var mine = SafetensorsFile.Open(output);
        using var r = SafetensorsFile.Open(Path.Combine(GradientReferenceTests.RefDir, "loss_and_grads.safetensors"));
        double Meta(string key) => double.Parse(mine.Metadata[key], System.Globalization.CultureInfo.InvariantCulture);
        double kl = Meta("loss.kl"), ce = Meta("loss.ce"), hidden = Meta("loss.hidden-mse");
        Assert.True(Math.Abs(kl - r.GetFloat32("fp32.kd.loss").Span[0]) <= 1e-5 * kl);
        Assert.True(Math.Abs(ce - r.GetFloat32("fp32.ce.loss").Span[0]) <= 1e-5 * ce);
        Assert.True(hidden > 0);
        Assert.True(Math.Abs(mine.GetFloat32("loss").Span[0] - (0.5 * kl + 0.25 * ce + hidden)) <= 1e-6 * (kl + ce + hidden));
        Assert.Equal([256L, 128L], mine.GetInfo("param.distill.hidden_projection.weight").Shape);
        Assert.Equal([256L, 128L], mine.GetInfo("grad.distill.hidden_projection.weight").Shape);
        Assert.Equal([256L], mine.GetInfo("grad.distill.hidden_projection.bias").Shape);
        Assert.Equal(42 + 4, mine.Tensors.Count);
    }

    [Fact]
    public void OneAndTwoThreadsWriteTheSameBytes()
    {
        string items = ReferenceItems();
        var files = new List<byte[]>();
        foreach (var threads in new[] { "1", "2" })
        {
            string output = Path.Combine(_dir, $"t{threads}.safetensors");
            var run = MakeRandomRun.Run("gradients", "--model", TestPaths.Model("bert-tiny-sst2"), "--input", items, "--loss", "kd",
                "--teacher", TestPaths.Model("bert-mini-sst2"), "--threads", threads, "--output", output);
            Assert.True(run.ExitCode == 0, run.Stderr);
            files.Add(File.ReadAllBytes(output).AsSpan(8).ToArray());
        }
        // Same metadata, same tensors: everything after the header-length prefix is identical.
        Assert.True(files[0].AsSpan().SequenceEqual(files[1]));
    }

    [Fact]
    public void RefusesBadInput()
    {
        string model = TestPaths.Model("bert-tiny-sst2"), output = Path.Combine(_dir, "out.safetensors");
        string empty = Path.Combine(_dir, "empty.json"); File.WriteAllText(empty, "[]");
        string broken = Path.Combine(_dir, "broken.json"); File.WriteAllText(broken, "[{\"text\": 3}]");
        string unknown = Path.Combine(_dir, "unknown.json"); File.WriteAllText(unknown, "[{\"text\": \"a\", \"lable\": 1}]");
        string badLabel = Path.Combine(_dir, "badlabel.json"); File.WriteAllText(badLabel, "[{\"text\": \"a\", \"label\": 7}]");
        string longItem = Path.Combine(_dir, "long.json");
        File.WriteAllText(longItem, "[{\"text\": \"short\", \"label\": 0}, {\"text\": \"" + string.Concat(Enumerable.Repeat("movie ", 600)) + "\", \"label\": 1}]");

        var cases = new (string[] Args, int Code, string Message)[]
        {
            (["--model", model, "--input", empty, "--loss", "ce", "--output", output], 1, "empty"),
            (["--model", model, "--input", broken, "--loss", "ce", "--output", output], 1, "wrong type"),
            (["--model", model, "--input", unknown, "--loss", "ce", "--output", output], 1, "unknown field \"lable\""),
            (["--model", model, "--input", badLabel, "--loss", "ce", "--output", output], 1, "label 7"),
            (["--model", model, "--input", ReferenceItems(labels: false), "--loss", "ce", "--output", output], 1, "needs a \"label\""),
            (["--model", model, "--input", empty, "--loss", "kd", "--output", output], 2, "needs --teacher"),
            (["--model", model, "--input", empty, "--loss", "mse", "--output", output], 2, "--loss must be"),
            (["--model", model, "--input", empty, "--loss", "kd", "--teacher", model, "--temperature", "0", "--output", output], 2, "--temperature"),
            (["--model", model, "--input", empty, "--loss", "embedding-mse", "--teacher", TestPaths.Model("bert-mini-sst2"), "--output", output], 1, "empty"),
            (["--model", model, "--input", ReferenceItems(), "--loss", "embedding-mse", "--teacher", TestPaths.Model("bert-mini-sst2"), "--output", output], 1, "equal widths"),
            (["--model", model, "--input", longItem, "--loss", "ce", "--output", output], 1, "item 1 is longer than the model's 512 positions"),
            (["--model", TestPaths.Model("mobilebert-mini-sst2"), "--input", ReferenceItems(), "--loss", "ce", "--output", output], 1, "not 'mobilebert'"),
            (["--model", model, "--input", empty, "--loss", "0.5*kl,ce,ce", "--teacher", model, "--output", output], 2, "twice"),
            (["--model", model, "--input", empty, "--loss", "hidden-mse(1:x)", "--teacher", model, "--output", output], 2, "STUDENT:TEACHER"),
            (["--model", model, "--input", empty, "--loss", "ce", "--dropout", "1", "--output", output], 2, "--dropout"),
            (["--model", model, "--input", ReferenceItems(), "--loss", "hidden-mse(3:1)", "--teacher", TestPaths.Model("bert-mini-sst2"), "--output", output], 1, "out of range"),
        };
        foreach (var (args, code, message) in cases)
        {
            var run = MakeRandomRun.Run(["gradients", .. args]);
            Assert.True(run.ExitCode == code, $"{string.Join(' ', args)}: exit {run.ExitCode}, {run.Stderr}");
            Assert.Contains(message, run.Stderr);
        }
        Assert.False(File.Exists(output));
    }
}
