namespace NativeTransformer.Training.Loop;

/// <summary>
/// <c>--keep-sparsity</c>: the positions of the encoder Linear weights that are exactly zero in the starting model.
/// Their gradient is zeroed before clipping (so the norm and AdamW's m, v never see them) and the weight is set back
/// to 0 after the update, which also covers weight decay. Only matrices with at least one zero are tracked.
/// </summary>
public sealed class SparsityMask
{
    private readonly Dictionary<string, int[]> _zeros = new(StringComparer.Ordinal);

    public long FrozenCount { get; private set; }

    public static SparsityMask FromWeights(ParameterSet start)
    {
        var mask = new SparsityMask();
        foreach (var p in start.All)
        {
            if (p.Shape.Length != 2 || p.Name.Contains("embeddings", StringComparison.Ordinal)) continue; // matrices the pruner touches
            var idx = new List<int>();
            for (int i = 0; i < p.Values.Length; i++) if (p.Values[i] == 0f) idx.Add(i);
            if (idx.Count == 0) continue;
            mask._zeros[p.Name] = [.. idx];
            mask.FrozenCount += idx.Count;
        }
        return mask;
    }

    public void MaskGradients(ParameterSet gradients) => Zero(gradients);
    public void RestoreZeros(ParameterSet weights) => Zero(weights);

    private void Zero(ParameterSet set)
    {
        foreach (var (name, idx) in _zeros)
        {
            var v = set[name].Values;
            foreach (int i in idx) v[i] = 0f;
        }
    }
}
