using NativeTransformer.Kernels;

namespace NativeTransformer.Models;

/// <summary>Row-parallel in-place LayerNorm over [rows, width] on the <see cref="WorkerPool"/>; reused across calls (no allocation).</summary>
internal sealed class LayerNormJob(float eps) : IParallelWork
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

    public void Execute(int start, int end, int worker)
    {
        var w = _w!;
        LayerNorm.AddResidualAndNormalize(_x.AsSpan(start * w.Width, (end - start) * w.Width), default, w.Gamma.Span, w.Beta.Span, end - start, w.Width, eps);
    }
}
