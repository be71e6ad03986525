namespace NativeTransformer.Weights;

/// <summary>Conveniences over any <see cref="ITensorSource"/>.</summary>
public static class TensorSourceExtensions
{
    /// <summary>The header entry for <paramref name="name"/>; <see cref="WeightException"/> naming the full key when absent.</summary>
    public static TensorInfo GetInfo(this ITensorSource source, string name) =>
        source.TryGetInfo(name, out var info) ? info : throw new WeightException(name, $"no tensor named '{name}' in the checkpoint");
}
