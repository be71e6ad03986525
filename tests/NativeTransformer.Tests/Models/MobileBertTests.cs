using NativeTransformer.Compression;
using NativeTransformer.Kernels;
using NativeTransformer.Tests.Cli;

namespace NativeTransformer.Tests.Models;

/// <summary>MobileBERT specifics beyond the shared parity / accuracy / allocation / determinism lists: the NoNorm kernel
/// against its scalar oracle, the runtime shape of the block, and which weights-tools commands accept the family.</summary>
public class MobileBertTests
{
    private static string Model => TestPaths.Model("mobilebert-mini-sst2");

    [Fact]
    public void NoNormMatchesItsScalarOracle()
    {
        var rng = new Random(5);
        int rows = 7, width = 37;
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        float[] x = Random(rows * width), residual = Random(rows * width), gamma = Random(width), beta = Random(width);
        var fast = x.ToArray(); var oracle = x.ToArray();
        NoNorm.AddResidualAndScale(fast, residual, gamma, beta, rows, width);
        NoNormReference.AddResidualAndScale(oracle, residual, gamma, beta, rows, width);
        Assert.Equal(oracle, fast); // both multiply then add, each rounded to float
    }

    [Fact]
    public void BlockRunsEveryLinearAsAPackedOperator()
    {
        using var model = TransformerModel.Load(Model, new LoadOptions { Threads = 1 });
        var c = model.Config;
        Assert.Equal(32, c.AttentionSize);
        Assert.Equal(NativeTransformer.Models.NormalizationType.NoNorm, c.NormalizationType);
        // Per layer: query|key, value, attention output, 4 × (intermediate, output), 3 bottlenecks; plus embedding_transformation.
        var ops = model.LinearOperators.ToList();
        Assert.Equal(2 * 14 + 1, ops.Count);
        Assert.All(ops, o => Assert.Equal("fp32-packed", o.Kind));
        Assert.True(model.HasPooler);
    }

    [Fact]
    public void QuantizeRefusesAndDropLayersWorks()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<NativeTransformerException>(() => QuantizeFolder.Run(Model, tmp.File("q"), new QuantizeOptions()));
        Assert.Contains("mobilebert", e.Message);
        LayerDropper.Drop(Model, tmp.File("d"), [0]); // renumbers every key under encoder.layer.N, bottlenecks and ffn.J included
        using var reduced = TransformerModel.Load(tmp.File("d"));
        using var kept = TransformerModel.Load(Model, new LoadOptions { KeepLayers = [0] });
        Assert.Equal(1, reduced.Config.NumLayers);
        Assert.Equal(kept.Classify(["a gorgeous movie"])[0].Logits, reduced.Classify(["a gorgeous movie"])[0].Logits);
    }
}
