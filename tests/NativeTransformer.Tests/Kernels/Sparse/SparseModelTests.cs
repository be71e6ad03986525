using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Sparse;
using NativeTransformer.WeightsTools;

namespace NativeTransformer.Tests.Kernels.Sparse;

/// <summary>A pruned model through the sparse kernels gives the dense path's logits; the factory picks by the policy.</summary>
public sealed class SparseModelTests
{
    [Fact]
    public void NinetyPercentPrunedTinyModelMatchesTheDensePath()
    {
        var pruned = Directory.CreateTempSubdirectory("nt-pruned-").FullName;
        Directory.Delete(pruned);
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = WeightsToolsApp.Run(["prune", TestPaths.Model("bert-tiny-sst2"), "--output", pruned, "--sparsity", "0.9", "--method", "magnitude"], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        try { CompareSparseAndDense(pruned); }
        finally { if (Directory.Exists(pruned)) Directory.Delete(pruned, recursive: true); }
    }

    private static void CompareSparseAndDense(string pruned)
    {
        string[] texts = ["a charming and often affecting journey .", "unflinchingly bleak and desperate", "the film is , arguably , a masterpiece of tedium ."];
        using var dense = TransformerModel.Load(pruned, new LoadOptions { SparseKernels = SparseKernels.Never });
        using var sparse = TransformerModel.Load(pruned, new LoadOptions { SparseKernels = SparseKernels.Always });
        Assert.Equal("fp32-packed", dense.KernelDescription.Split(" ")[0]);
        Assert.StartsWith("fp32-sparse", sparse.KernelDescription);
        using (var auto = TransformerModel.Load(pruned))   // 90 % zeros: the default policy goes sparse
            Assert.Equal(sparse.KernelDescription, auto.KernelDescription);
        var d = dense.Classify(texts); var s = sparse.Classify(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(d[i].LabelId, s[i].LabelId);
            for (int c = 0; c < d[i].Logits.Length; c++)
                Assert.True(Math.Abs(d[i].Logits[c] - s[i].Logits[c]) <= 1e-4, $"text {i} logit {c}: dense {d[i].Logits[c]}, sparse {s[i].Logits[c]}");
        }
    }

    [Fact]
    public void FactoryFollowsThePolicyAndTheSwitch()
    {
        var rng = new Random(2);
        int n = 256, k = 256;
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = rng.NextDouble() < 0.95 ? 0f : (float)(rng.NextDouble() - 0.5);
        var dense = new float[n * k];
        for (int i = 0; i < dense.Length; i++) dense[i] = (float)(rng.NextDouble() - 0.5);
        double sparsity = (double)SparseMatrix.CountZeros(w, n, k) / (n * k);
        string auto = LinearOperatorFactory.Fp32(w, new float[n], n, k).Kind;
        Assert.Equal(SparsePolicy.SparseIsFaster(sparsity, n, k) ? "fp32-sparse" : "fp32-packed", auto);
        Assert.Equal("fp32-packed", LinearOperatorFactory.Fp32(dense, new float[n], n, k).Kind);   // a dense weight never goes sparse
        Assert.Equal("fp32-packed", LinearOperatorFactory.Fp32(w, new float[n], n, k, SparseKernels.Never).Kind);
        Assert.Equal("fp32-sparse", LinearOperatorFactory.Fp32(dense, new float[n], n, k, SparseKernels.Always).Kind);
    }

    [Fact]
    public void CliSparseOptionForcesTheKernelWithoutChangingResults()
    {
        string model = TestPaths.Model("bert-tiny-sst2");
        const string text = "a gorgeous, witty movie\nthe plot drags\n";
        var never = Cli.CliRunner.RunWithStdin(text, "classify", "--model", model, "--sparse", "never");
        var always = Cli.CliRunner.RunWithStdin(text, "classify", "--model", model, "--sparse", "always");
        Assert.True(always.ExitCode == 0, always.Stderr);
        Assert.Equal(never.Stdout, always.Stdout); // one fixed FMA chain per output: dense and sparse agree bit for bit
        var bad = Cli.CliRunner.RunWithStdin(text, "classify", "--model", model, "--sparse", "sometimes");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--sparse", bad.Stderr);
    }

    /// <summary>The early-exit check decides exactly as counting every zero would, around the threshold too.</summary>
    [Fact]
    public void ShouldUseSparseEqualsTheFullCount()
    {
        var rng = new Random(5);
        foreach (var (n, k) in new[] { (1, 1), (7, 13), (64, 100), (300, 257) })
            foreach (double target in new[] { 0, 0.5, 0.79, 0.8, 0.81, 0.94, 0.95, 0.96, 1 })
                foreach (int rows in new[] { 1, 128 })
                {
                    var w = new float[n * k];
                    int zeros = (int)Math.Round(target * w.Length);
                    for (int i = 0; i < w.Length; i++) w[i] = i < zeros ? 0f : 1f + (float)rng.NextDouble();
                    rng.Shuffle(w);
                    double sparsity = (double)SparseMatrix.CountZeros(w, n, k) / w.Length;
                    Assert.Equal(SparsePolicy.SparseIsFaster(sparsity, n, k, rows), SparsePolicy.ShouldUseSparse(w, n, k, rows));
                }
    }
}
