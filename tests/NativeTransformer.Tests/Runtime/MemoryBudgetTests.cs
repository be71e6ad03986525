using System.Diagnostics;
using System.Text.Json;
using NativeTransformer.Kernels;
using NativeTransformer.Models;
using NativeTransformer.Tests.Cli;
using NativeTransformer.Tests.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Runtime;

/// <summary>The memory estimate (TransformerModel.EstimateMemory), the budget (LoadOptions.MaxMemoryBytes / --max-memory)
/// and the size grammar. The estimate's parts are checked against the exact sizes of the objects a load builds; the
/// whole figure against a child process's peak RSS.</summary>
public class MemoryBudgetTests
{
    private static readonly string Tiny = TestPaths.Model("bert-tiny-sst2");

    [Theory]
    [InlineData("512M", 512L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("1500MB", 1500L << 20)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("64k", 64L << 10)]
    [InlineData("1t", 1L << 40)]
    [InlineData("4096", 4096)]
    [InlineData("100b", 100)]
    public void Sizes_parse_with_binary_units(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text));

    [Theory]
    [InlineData("")] [InlineData("0")] [InlineData("0.1")] [InlineData("-1G")] [InlineData("1.2.3M")] [InlineData("M")]
    [InlineData("1 G")] [InlineData("1e9")] [InlineData("12X")] [InlineData("99999999T")] [InlineData(".")]
    public void Bad_sizes_are_input_errors(string text)
    {
        var e = Assert.Throws<InputException>(() => ByteSize.Parse(text));
        Assert.Contains("512M", e.Message); // the message shows the grammar
    }

    [Theory]
    [InlineData("bert-tiny-sst2", false)]
    [InlineData("bert-tiny-sst2", true)]
    [InlineData("albert-mini-sst2", false)]
    [InlineData("distilbert-mini-sst2", true)]
    [InlineData("mobilebert-mini-sst2", false)]
    [InlineData("mobilebert-mini-sst2", true)]
    [InlineData("t5-encoder-mini-sst2", false)]
    [InlineData("t5-encoder-mini-sst2", true)]
    public void Linear_parts_equal_what_the_load_allocates(string name, bool int8)
    {
        var options = new LoadOptions { Int8 = int8, BatchSize = 4, MaxLength = 64, Threads = 1 };
        var estimate = TransformerModel.EstimateMemory(TestPaths.Model(name), options);
        using var model = TransformerModel.Load(TestPaths.Model(name), options);
        var ops = model.LinearOperators.ToList();
        Assert.Equal(ops.Where(o => o.Kind != "int8").Sum(o => o.OwnedBytes), Part(estimate, "fp32 packed Linears"));
        Assert.Equal(ops.Where(o => o.Kind == "int8").Sum(o => o.OwnedBytes), Part(estimate, "int8 Linears"));
        Assert.True(Part(estimate, int8 ? "int8 Linears" : "fp32 packed Linears") > 0);
    }

    [Fact]
    public void Sparse_always_bound_holds_for_a_dense_model()
    {
        var options = new LoadOptions { SparseKernels = SparseKernels.Always, Threads = 1, MaxLength = 16, BatchSize = 1 };
        var estimate = TransformerModel.EstimateMemory(Tiny, options);
        using var model = TransformerModel.Load(Tiny, options);
        long actual = model.LinearOperators.Sum(o => o.OwnedBytes);
        Assert.InRange(actual, 1, Part(estimate, "fp32 packed Linears"));
    }

    [Theory]
    [InlineData("bert-tiny-sst2", 32, 128)]
    [InlineData("albert-mini-sst2", 3, 50)] // E != H: the Embedded buffer counts
    [InlineData("mobilebert-mini-sst2", 3, 50)] // trigram rows, bottleneck and stacked-FFN buffers
    [InlineData("t5-encoder-mini-sst2", 3, 50)] // q/k/v and context at num_heads · d_kv (128), not d_model (64)
    public void Run_state_part_equals_the_run_state_buffers(string name, int batch, int seq)
    {
        var config = ModelConfig.Load(Path.Combine(TestPaths.Model(name), "config.json"));
        using var pool = new WorkerPool(2);
        var s = new RunState(config, batch, seq, pool, int8: false);
        long floats = s.Embedded.Length + s.Hidden.Length + s.Qkv.Length + s.Context.Length + s.Attended.Length + s.Ffn.Length + s.Gate.Length
            + s.LayerInput.Length + s.SharedInput.Length + s.Attended2.Length + s.NextHidden.Length
            + s.AttentionScratch.Sum(a => (long)a.Length);
        Assert.Equal(floats * sizeof(float), MemoryEstimator.RunStateBytes(config, batch, seq, 2, int8: false));
        var estimate = TransformerModel.EstimateMemory(TestPaths.Model(name),
            new LoadOptions { BatchSize = batch, MaxLength = seq, Threads = 2 }, concurrentCalls: 3);
        Assert.Equal(3 * floats * sizeof(float), Part(estimate, "run state"));
    }

    [Fact]
    public void Too_small_a_budget_refuses_before_reading_weights()
    {
        // Header intact, data section truncated to garbage: reading any weight (or even opening the file) fails.
        using var folder = TempModelFolder.CopyOf("bert-tiny-sst2", withWeights: false);
        var original = File.ReadAllBytes(Path.Combine(Tiny, "model.safetensors"));
        long headerEnd = 8 + BitConverter.ToInt64(original, 0);
        File.WriteAllBytes(folder.FilePath("model.safetensors"), [.. original.AsSpan(0, (int)headerEnd), .. Enumerable.Repeat((byte)0xFF, 100)]);

        var e = Assert.Throws<MemoryBudgetException>(() => TransformerModel.Load(folder.Path, new LoadOptions { MaxMemoryBytes = 1 << 20 }));
        Assert.Contains("exceeds the memory budget 1.0 MiB", e.Message);
        Assert.Contains("--int8", e.Message);
        Assert.Contains("--max-length", e.Message);
        Assert.Contains("--drop-top", e.Message);
        Assert.Contains("mapped weights", e.Message); // the largest parts are named
        Assert.Equal(1 << 20, e.BudgetBytes);
        // The same folder without a budget, or with one it fits, fails on the weights: the refusal above came first.
        Assert.Throws<SafetensorsException>(() => TransformerModel.Load(folder.Path));
        Assert.Throws<SafetensorsException>(() => TransformerModel.Load(folder.Path, new LoadOptions { MaxMemoryBytes = 1L << 40 }));
    }

    [Fact]
    public void A_budget_that_fits_loads_and_one_byte_less_refuses()
    {
        var options = new LoadOptions { BatchSize = 8, MaxLength = 64, Threads = 1 };
        long total = TransformerModel.EstimateMemory(Tiny, options).TotalBytes;
        using (var model = TransformerModel.Load(Tiny, options with { MaxMemoryBytes = total }))
            Assert.Equal("positive", model.Classify(["a gorgeous, witty movie"])[0].Label);
        Assert.Throws<MemoryBudgetException>(() => TransformerModel.Load(Tiny, options with { MaxMemoryBytes = total - 1 }));
        Assert.Throws<InputException>(() => TransformerModel.Load(Tiny, options with { MaxMemoryBytes = 0 }));
    }

    [Fact]
    public void Int8_and_dropping_layers_shrink_the_estimate()
    {
        var fp32 = TransformerModel.EstimateMemory(TestPaths.Model("bert-mini-sst2"));
        var int8 = TransformerModel.EstimateMemory(TestPaths.Model("bert-mini-sst2"), new LoadOptions { Int8 = true });
        var dropped = TransformerModel.EstimateMemory(TestPaths.Model("bert-mini-sst2"), new LoadOptions { DropTopLayers = 2 });
        Assert.True(Part(int8, "fp32 packed Linears") == 0 && Part(int8, "int8 Linears") * 3 < Part(fp32, "fp32 packed Linears"));
        Assert.True(Part(dropped, "mapped weights") < Part(fp32, "mapped weights"));
        Assert.Equal(Part(fp32, "fp32 packed Linears"), 2 * Part(dropped, "fp32 packed Linears"));
    }

    [Fact]
    public void Cli_refuses_with_one_line_and_inspect_prints_the_estimate()
    {
        CliRunner.Run("classify", "--model", Tiny, "--max-memory", "1M", "a movie").AssertOneLineError(1, "exceeds the memory budget");
        CliRunner.Run("classify", "--model", Tiny, "--max-memory", "12Q", "a movie").AssertOneLineError(2, "--max-memory");

        var r = CliRunner.Run("inspect", "--model", Tiny, "--json", "--batch-size", "32", "--max-length", "128", "--threads", "1", "--max-memory", "1G",
            "--no-pack-cache"); // the estimate depends on the pack cache's state (a validated hit reads fewer pages)
        Assert.Equal(0, r.ExitCode);
        var json = JsonDocument.Parse(r.Stdout).RootElement;
        var expected = TransformerModel.EstimateMemory(Tiny, new LoadOptions { BatchSize = 32, MaxLength = 128, Threads = 1 });
        Assert.Equal(expected.TotalBytes, json.GetProperty("memory_estimate").GetProperty("total_bytes").GetInt64());
        Assert.Equal(expected.Parts.Count, json.GetProperty("memory_estimate").GetProperty("parts").GetArrayLength());
        Assert.True(json.GetProperty("fits_budget").GetBoolean());

        var text = CliRunner.Run("inspect", "--model", Tiny, "--int8");
        Assert.Contains("memory estimate (batch 32 × 512 tokens", text.Stdout);
        Assert.Contains("int8 Linears:", text.Stdout);
        Assert.Contains("total (peak RSS):", text.Stdout);
    }

    [Fact]
    public void Serve_budget_covers_all_models_at_once()
    {
        string[] models = [$"a={Tiny}", $"b={TestPaths.Model("bert-mini-sst2")}"];
        var args = NativeTransformer.Cli.ParsedArgs.Parse(NativeTransformer.Cli.Commands.ServeCommand.Spec, ["--max-memory", "1M", "--max-concurrency", "2", "--no-pack-cache"]);
        var e = Assert.Throws<MemoryBudgetException>(() => NativeTransformer.Cli.Commands.ServeCommand.Options(args, models));
        Assert.Contains("ntr serve (2 model(s)", e.Message);
        var a = TransformerModel.EstimateMemory(Tiny, new LoadOptions(), 2);
        var b = TransformerModel.EstimateMemory(TestPaths.Model("bert-mini-sst2"), new LoadOptions(), 2);
        Assert.Equal(a.ModelBytes + b.ModelBytes + a.ProcessBaselineBytes, e.Estimate.TotalBytes);
    }

    /// <summary>The target: the estimate within 10 % of the measured peak RSS. A child `ntr bench` process (JIT, like
    /// this test host) loads bert-mini at batch 32 × 128 tokens, where every part is fully touched, and reports VmHWM.</summary>
    [Fact]
    public void Estimate_is_within_10_percent_of_a_child_process_peak_rss()
    {
        if (!OperatingSystem.IsLinux()) return; // VmHWM
        string model = TestPaths.Model("bert-mini-sst2");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "ntr.dll"), "bench", "--model", model, "--batch", "32", "--seq", "128",
                     "--warmup", "0", "--iterations", "1", "--json", "--no-pack-cache"]) psi.ArgumentList.Add(arg);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "ntr bench did not finish");
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        var bench = JsonDocument.Parse(stdout).RootElement;
        double measured = bench.GetProperty("peak_rss_mb").GetDouble() * 1048576;
        var estimate = TransformerModel.EstimateMemory(model, new LoadOptions { BatchSize = 32, MaxLength = 128, Threads = bench.GetProperty("threads").GetInt32() });
        Assert.Equal("jit", estimate.Runtime);
        double error = (estimate.TotalBytes - measured) / measured;
        Assert.True(Math.Abs(error) <= 0.10, $"estimate {MemoryEstimate.Format(estimate.TotalBytes)} vs measured {measured / 1048576:F1} MiB ({error:P1})");
    }

    private static long Part(MemoryEstimate e, string name) => e.Parts.Single(p => p.Name == name).Bytes;
}
