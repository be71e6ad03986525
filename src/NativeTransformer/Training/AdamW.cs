namespace NativeTransformer.Training;

/// <summary>AdamW's hyper-parameters (PyTorch's defaults except the learning rate, which HF's Trainer sets).</summary>
public sealed record AdamWOptions(double LearningRate = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0.01);

/// <summary>
/// torch.optim.AdamW (PyTorch 1.13, single-tensor path, amsgrad off) in float32 like the parameters:
/// p ← p·(1 − lr·wd) (decay group only), m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², p ← p − (lr / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε).
/// Scalar factors are computed in double and rounded to float once, as PyTorch does with Python scalars. Element-wise
/// and serial, so the result never depends on the thread count. Weight decay skips biases and LayerNorm weights
/// (<see cref="Parameter.DecaysWeight"/>).
/// </summary>
public sealed class AdamW
{
    private readonly AdamWOptions _o;
    private readonly Dictionary<string, (float[] M, float[] V)> _state = new(StringComparer.Ordinal);
    public int Step { get; internal set; }
    /// <summary>The learning rate of the next <see cref="Apply"/> (a schedule sets it before each step).</summary>
    public double LearningRate { get; set; }
    /// <summary>The first and second moments by parameter name (what a training checkpoint stores).</summary>
    internal Dictionary<string, (float[] M, float[] V)> State => _state;

    public AdamW(AdamWOptions options) { _o = options; LearningRate = options.LearningRate; }

    /// <summary>One step on every parameter of <paramref name="parameters"/> with the same-named gradient.</summary>
    public void Apply(ParameterSet parameters, ParameterSet gradients)
    {
        Step++;
        double bc1 = 1 - Math.Pow(_o.Beta1, Step), bc2 = 1 - Math.Pow(_o.Beta2, Step);
        float decay = (float)(1 - LearningRate * _o.WeightDecay);
        float b1 = (float)_o.Beta1, oneMinusB1 = (float)(1 - _o.Beta1), b2 = (float)_o.Beta2, oneMinusB2 = (float)(1 - _o.Beta2);
        float stepSize = (float)(LearningRate / bc1), bc2Sqrt = (float)Math.Sqrt(bc2), eps = (float)_o.Epsilon;
        foreach (var p in parameters.All)
        {
            var g = gradients[p.Name].Values;
            if (!_state.TryGetValue(p.Name, out var s)) _state[p.Name] = s = (new float[g.Length], new float[g.Length]);
            var w = p.Values;
            bool decays = p.DecaysWeight && _o.WeightDecay != 0;
            for (int i = 0; i < w.Length; i++)
            {
                if (decays) w[i] *= decay;
                s.M[i] = s.M[i] * b1 + g[i] * oneMinusB1;
                s.V[i] = s.V[i] * b2 + g[i] * g[i] * oneMinusB2;
                float denom = MathF.Sqrt(s.V[i]) / bc2Sqrt + eps;
                w[i] += -stepSize * (s.M[i] / denom);
            }
        }
    }
}
