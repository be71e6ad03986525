namespace NativeTransformer.Training.Loop;

/// <summary>
/// torch.nn.utils.clip_grad_norm_ (norm type 2): total = ‖(‖g₁‖, …, ‖gₙ‖)‖₂, coef = max_norm / (total + 1e-6), and when
/// coef &lt; 1 every gradient is multiplied by it. The norm is summed in double, serially, in parameter order, so it is
/// the same number for any thread count (torch sums per-tensor norms in float; the difference is rounding only).
/// </summary>
public static class GradientClipping
{
    public static double GlobalNorm(ParameterSet gradients)
    {
        double sum = 0;
        foreach (var g in gradients.All)
        {
            double s = 0;
            foreach (float v in g.Values) s += (double)v * v;
            sum += s;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>Clips in place; returns the norm before clipping (what torch returns).</summary>
    public static double Clip(ParameterSet gradients, double maxNorm)
    {
        double total = GlobalNorm(gradients);
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1)
        {
            float c = (float)coef;
            foreach (var g in gradients.All)
            {
                var v = g.Values;
                for (int i = 0; i < v.Length; i++) v[i] *= c;
            }
        }
        return total;
    }
}
