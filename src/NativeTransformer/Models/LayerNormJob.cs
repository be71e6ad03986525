using NativeTransformer.Kernels;

namespace NativeTransformer.Models;

/// <summary>Row-parallel in-place norm over [rows, width] on the <see cref="WorkerPool"/>: LayerNorm, the element-wise
/// <see cref="Kernels.NoNorm"/> when the config's normalization_type says no_norm, or T5's <see cref="Kernels.RmsNorm"/>.
/// Reused across calls (no allocation).</summary>
internal sealed class LayerNormJob(float eps, NormalizationType type = NormalizationType.LayerNorm) : IParallelWork
{
    private float[] _x = [];
    private LayerNormWeights? _w;

    public void Run(WorkerPool pool, float[] x, LayerNormWeights w, int rows)
    {
        _x = x; _w = w;
        // Rows are cheap (≈ 5·H flops): split only into chunks worth a thread hand-off.
        pool.For(rows, Math.Max(1, rows * w.Width / 16384), this);
        _x = []; _w = null;
    }

    public void Execute(int start, int end, int worker) => Apply(_x.AsSpan(start * _w!.Width, (end - start) * _w.Width), _w, end - start);

    /// <summary>The norm on <paramref name="rows"/> rows of <paramref name="x"/>, serially (e.g. the embeddings).</summary>
    public void Apply(Span<float> x, LayerNormWeights w, int rows)
    {
        if (type == NormalizationType.RmsNorm) RmsNorm.Normalize(x, w.Gamma.Span, rows, w.Width, eps);
        else if (type == NormalizationType.NoNorm) NoNorm.AddResidualAndScale(x, default, w.Gamma.Span, w.Beta.Span, rows, w.Width);
        else LayerNorm.AddResidualAndNormalize(x, default, w.Gamma.Span, w.Beta.Span, rows, w.Width, eps);
    }
}
