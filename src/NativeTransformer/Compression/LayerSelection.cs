using System.Globalization;

namespace NativeTransformer.Compression;

/// <summary>
/// Which encoder layers survive a layer reduction. One pure function shared by the offline
/// <c>drop-layers</c> tool and the load-time option (<see cref="LoadOptions.KeepLayers"/> /
/// <see cref="LoadOptions.DropTopLayers"/>), so both keep exactly the same layers.
/// </summary>
public static class LayerSelection
{
    /// <summary>
    /// The kept layer indices (ascending, distinct, each in [0, <paramref name="numLayers"/>)) for exactly one of:
    /// an explicit <paramref name="keep"/> list (must already be strictly ascending), <paramref name="dropTop"/> K
    /// (keep 0..L-K-1) or <paramref name="dropEvery"/> N (drop layer i when (i+1) % N == 0). Returns null when no
    /// option is given (keep everything). Throws <see cref="InputException"/> for conflicting options, indices out
    /// of range, duplicates, unsorted lists, non-positive counts, or a selection that keeps no layer.
    /// </summary>
    public static int[]? Resolve(int numLayers, IReadOnlyList<int>? keep = null, int? dropTop = null, int? dropEvery = null)
    {
        int given = (keep is null ? 0 : 1) + (dropTop is null ? 0 : 1) + (dropEvery is null ? 0 : 1);
        if (given == 0) return null;
        if (given > 1) throw new InputException("choose one of keep-layers, drop-top and drop-every, not several");
        if (numLayers < 1) throw new InputException($"the model has {numLayers} encoder layers; nothing to select");

        int[] kept;
        if (keep is not null)
        {
            if (keep.Count == 0) throw new InputException("keep-layers is empty: at least one layer must be kept");
            for (int j = 0; j < keep.Count; j++)
            {
                if (keep[j] < 0 || keep[j] >= numLayers)
                    throw new InputException($"keep-layers: layer {keep[j]} is out of range; the model has layers 0..{numLayers - 1}");
                if (j > 0 && keep[j] == keep[j - 1]) throw new InputException($"keep-layers: layer {keep[j]} is listed twice");
                if (j > 0 && keep[j] < keep[j - 1])
                    throw new InputException($"keep-layers: layers must be in ascending order ({keep[j - 1]} comes before {keep[j]})");
            }
            kept = [.. keep];
        }
        else if (dropTop is int k)
        {
            if (k < 0) throw new InputException($"drop-top must be 0 or more, got {k}");
            if (k >= numLayers) throw new InputException($"drop-top {k} would drop all {numLayers} layers; at least one must be kept");
            kept = Enumerable.Range(0, numLayers - k).ToArray();
        }
        else
        {
            int n = dropEvery!.Value;
            if (n < 1) throw new InputException($"drop-every must be at least 1, got {n}");
            kept = Enumerable.Range(0, numLayers).Where(i => (i + 1) % n != 0).ToArray();
            if (kept.Length == 0) throw new InputException($"drop-every {n} would drop all {numLayers} layers; at least one must be kept");
        }
        return kept;
    }

    /// <summary>The load options' selection for a model with <paramref name="numLayers"/> layers, or null (all layers).</summary>
    public static int[]? Resolve(int numLayers, LoadOptions options) =>
        Resolve(numLayers, options.KeepLayers, options.DropTopLayers);

    /// <summary>Parses "0,1,3" (spaces allowed around items). Throws <see cref="InputException"/> for anything else.</summary>
    public static int[] ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',');
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out result[i]))
                throw new InputException($"layer list '{text}' is not comma-separated layer numbers like 0,1,3");
        return result;
    }
}
