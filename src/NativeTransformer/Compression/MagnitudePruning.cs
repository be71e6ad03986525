using System.Text.RegularExpressions;

namespace NativeTransformer.Compression;

/// <summary>How many matrices share one magnitude threshold.</summary>
public enum PruningScope
{
    /// <summary>Every matrix is pruned to the sparsity on its own.</summary>
    Matrix,
    /// <summary>All selected matrices of one encoder layer share one threshold.</summary>
    Layer,
    /// <summary>One threshold over all selected matrices.</summary>
    Global,
}

/// <summary>Which entries may be zeroed.</summary>
public enum SparsityPattern
{
    /// <summary>Any entry.</summary>
    Unstructured,
    /// <summary>In every group of 4 consecutive weights of a row (input dimension of an [out, in] matrix), the 2 smallest.</summary>
    TwoFour,
}

/// <summary>A named row-major matrix [Rows, Cols] ([out, in] for a Linear weight).</summary>
public sealed record NamedMatrix(string Name, float[] Values, int Rows, int Cols)
{
    public long Count => (long)Rows * Cols;
}

/// <summary>
/// Magnitude pruning as pure functions: inputs are never modified, results are fresh arrays.
/// </summary>
/// <remarks>
/// <para><b>Counting rule.</b> For a group of n weights (one matrix for <see cref="PruningScope.Matrix"/>, all matrices
/// of one layer for <see cref="PruningScope.Layer"/>, all matrices for <see cref="PruningScope.Global"/>) the target
/// is k = floor(S · n) zeros (S converted through <see cref="decimal"/>, so 0.29 · 100 is 29, not 28). The k entries
/// with the smallest |w| are set to +0; ties at the threshold are broken by position: matrices in the order given,
/// then row-major index, earlier first. Existing zeros (±0) are the smallest magnitudes, so they count toward the
/// target; the group then holds exactly max(k, existing zeros) zeros. NaN sorts above +∞ and is pruned last.
/// The result is deterministic (no randomness, no parallelism).</para>
/// <para><b>2:4.</b> Every row is split into groups of 4 consecutive weights (Cols must be a multiple of 4) and the 2
/// smallest |w| of each group are zeroed (ties: lower index first): exactly 50 % zeros per matrix; scope does not apply.</para>
/// </remarks>
public static class MagnitudePruning
{
    /// <summary>floor(S · n) with S in [0, 1), computed in decimal.</summary>
    public static long TargetZeros(long n, double sparsity)
    {
        CheckSparsity(sparsity);
        return (long)decimal.Floor((decimal)sparsity * n);
    }

    /// <summary>Exact zeros (+0 and −0) in <paramref name="values"/>.</summary>
    public static long CountZeros(ReadOnlySpan<float> values)
    {
        long z = 0;
        foreach (float v in values) if (v == 0f) z++;
        return z;
    }

    /// <summary>Fraction of exact zeros; 0 for an empty span.</summary>
    public static double Sparsity(ReadOnlySpan<float> values) => values.Length == 0 ? 0 : (double)CountZeros(values) / values.Length;

    /// <summary>One matrix pruned to <paramref name="sparsity"/> (unstructured).</summary>
    public static float[] PruneMatrix(ReadOnlySpan<float> values, double sparsity)
    {
        var copy = values.ToArray();
        PruneGroupInPlace([copy], TargetZeros(copy.Length, sparsity));
        return copy;
    }

    /// <summary>2:4 pruning of a row-major [rows, cols] matrix; cols must be a multiple of 4.</summary>
    public static float[] PruneTwoFour(ReadOnlySpan<float> values, int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols != values.Length)
            throw new ArgumentException($"shape [{rows}, {cols}] does not match {values.Length} values");
        if (cols % 4 != 0)
            throw new ArgumentException($"2:4 pruning needs the input dimension to be a multiple of 4, got [{rows}, {cols}]");
        var w = values.ToArray();
        for (int g = 0; g < w.Length; g += 4)
        {
            // indices of the two smallest |w| in w[g..g+4), ties by lower index
            Span<int> idx = [0, 1, 2, 3];
            for (int i = 1; i < 4; i++)
                for (int j = i; j > 0 && Less(w, g + idx[j], g + idx[j - 1]); j--)
                    (idx[j], idx[j - 1]) = (idx[j - 1], idx[j]);
            w[g + idx[0]] = 0f;
            w[g + idx[1]] = 0f;
        }
        return w;

        static bool Less(float[] a, int x, int y)
        {
            uint bx = AbsKey(a[x]), by = AbsKey(a[y]);
            return bx < by || (bx == by && x < y);
        }
    }

    /// <summary>
    /// Prunes every matrix; returns name → new values (same order and shapes as the input).
    /// <paramref name="layerOf"/> maps a name to its layer group for <see cref="PruningScope.Layer"/>
    /// (default <see cref="PruneSelection.LayerGroup"/>; a name without a layer forms its own group).
    /// </summary>
    public static IReadOnlyList<NamedMatrix> Prune(IReadOnlyList<NamedMatrix> matrices, double sparsity, PruningScope scope,
        SparsityPattern pattern = SparsityPattern.Unstructured, Func<string, string?>? layerOf = null)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        foreach (var m in matrices)
            if (m.Values.Length != m.Count)
                throw new ArgumentException($"matrix '{m.Name}': shape [{m.Rows}, {m.Cols}] does not match {m.Values.Length} values");
        if (pattern == SparsityPattern.TwoFour)
        {
            if (sparsity != 0.5) throw new ArgumentException($"2:4 pruning gives exactly 50 % sparsity; sparsity must be 0.5, got {sparsity}");
            return matrices.Select(m => m with { Values = PruneTwoFour(m.Values, m.Rows, m.Cols) }).ToList();
        }
        CheckSparsity(sparsity);
        var result = matrices.Select(m => m with { Values = (float[])m.Values.Clone() }).ToList();
        IEnumerable<List<NamedMatrix>> groups = scope switch
        {
            PruningScope.Matrix => result.Select(m => new List<NamedMatrix> { m }),
            PruningScope.Global => [result],
            PruningScope.Layer => GroupByLayer(result, layerOf ?? PruneSelection.LayerGroup),
            _ => throw new ArgumentOutOfRangeException(nameof(scope)),
        };
        foreach (var g in groups)
            PruneGroupInPlace(g.Select(m => m.Values).ToList(), TargetZeros(g.Sum(m => m.Count), sparsity));
        return result;
    }

    private static List<List<NamedMatrix>> GroupByLayer(List<NamedMatrix> matrices, Func<string, string?> layerOf)
    {
        var groups = new List<List<NamedMatrix>>();
        var byKey = new Dictionary<string, List<NamedMatrix>>(StringComparer.Ordinal);
        foreach (var m in matrices)
        {
            string? key = layerOf(m.Name);
            if (key is null) { groups.Add([m]); continue; }
            if (!byKey.TryGetValue(key, out var list)) { byKey[key] = list = []; groups.Add(list); }
            list.Add(m);
        }
        return groups;
    }

    /// <summary>Zeroes the <paramref name="k"/> smallest |w| over all arrays (ties: array order, then index).</summary>
    public static void PruneGroupInPlace(IReadOnlyList<float[]> arrays, long k)
    {
        long n = arrays.Sum(a => (long)a.Length);
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"{k} zeros asked of {n} weights");
        if (k == 0) return;
        if (n > Array.MaxLength) throw new ArgumentException($"a pruning group of {n} weights is too large (max {Array.MaxLength})");
        // k-th smallest magnitude key (|w| bits are monotonic in |w|; NaN above +inf)
        var keys = new uint[n];
        long p = 0;
        foreach (var a in arrays) foreach (float v in a) keys[p++] = AbsKey(v);
        Array.Sort(keys);
        uint threshold = keys[k - 1];
        long below = 0;
        foreach (var a in arrays) foreach (float v in a) if (AbsKey(v) < threshold) below++;
        long atThresholdToZero = k - below;
        foreach (var a in arrays)
            for (int i = 0; i < a.Length; i++)
            {
                uint key = AbsKey(a[i]);
                if (key < threshold) a[i] = a[i] == 0f ? a[i] : 0f;
                else if (key == threshold && atThresholdToZero > 0) { atThresholdToZero--; a[i] = a[i] == 0f ? a[i] : 0f; }
            }
    }

    private static uint AbsKey(float v) => float.IsNaN(v) ? uint.MaxValue : BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFFu;

    private static void CheckSparsity(double sparsity)
    {
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), $"sparsity must be in [0, 1), got {sparsity}");
    }
}

/// <summary>Which checkpoint keys are encoder Linear weights, and their layer.</summary>
public static partial class PruneSelection
{
    // Any prefix (bert., distilbert., albert., none for sentence-transformers folders).
    [GeneratedRegex(@"(?:^|\.)encoder\.layer\.(\d+)\.(?:attention\.self\.(?:query|key|value)(?:_global)?|attention\.output\.dense|intermediate\.dense|output\.dense)\.weight$", RegexOptions.CultureInvariant)]
    private static partial Regex Bert();

    [GeneratedRegex(@"(?:^|\.)transformer\.layer\.(\d+)\.(?:attention\.(?:q_lin|k_lin|v_lin|out_lin)|ffn\.lin1|ffn\.lin2)\.weight$", RegexOptions.CultureInvariant)]
    private static partial Regex DistilBert();

    [GeneratedRegex(@"(?:^|\.)albert_layer_groups\.(\d+)\.albert_layers\.(\d+)\.(?:attention\.(?:query|key|value|dense)|ffn|ffn_output)\.weight$", RegexOptions.CultureInvariant)]
    private static partial Regex Albert();

    /// <summary>True for the weight of an encoder Linear layer (BERT, DistilBERT, ALBERT); never embeddings,
    /// LayerNorm, biases, pooler, classifier or MLM head.</summary>
    public static bool IsEncoderLinearWeight(string key) => LayerGroup(key) is not null;

    /// <summary>"layer 3" (BERT/DistilBERT) or "group 0.0" (ALBERT layer group / inner layer) for an encoder Linear
    /// weight, else null.</summary>
    public static string? LayerGroup(string key)
    {
        if (Bert().Match(key) is { Success: true } b) return "layer " + b.Groups[1].Value;
        if (DistilBert().Match(key) is { Success: true } d) return "layer " + d.Groups[1].Value;
        if (Albert().Match(key) is { Success: true } a) return "group " + a.Groups[1].Value + "." + a.Groups[2].Value;
        return null;
    }
}
