namespace NativeTransformer.Training.Loop;

/// <summary>The loss (or the gradient norm) became NaN or infinite: training stops before the bad update is applied;
/// the last checkpoint written, if any, is the last good state.</summary>
public sealed class TrainingDivergedException(int step, double loss, string what)
    : NativeTransformerException($"training diverged at step {step}: the {what} is {loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} " +
                                 "(lower --lr or --max-grad-norm; the last checkpoint, if any, is the last good state)")
{
    public int Step { get; } = step;
    public double Loss { get; } = loss;
}

/// <summary>The up-front training memory estimate exceeds <c>--max-memory</c>.</summary>
public sealed class TrainingMemoryException(long estimatedBytes, long limitBytes)
    : NativeTransformerException($"training would need about {estimatedBytes / 1048576.0:F0} MiB (weights, gradients, AdamW m and v, activations), " +
                                 $"more than --max-memory {limitBytes / 1048576.0:F0} MiB; lower --batch-size or --max-length")
{
    public long EstimatedBytes { get; } = estimatedBytes;
    public long LimitBytes { get; } = limitBytes;
}
