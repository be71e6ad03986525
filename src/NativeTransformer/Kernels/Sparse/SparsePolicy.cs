namespace NativeTransformer.Kernels.Sparse;

/// <summary>
/// When the sparse fp32 kernel (<see cref="SparseGemm"/>) beats the packed dense one (<see cref="Packed.PackedGemm"/>) —
/// a static rule read off bench/NativeTransformer.Bench/SparseGemmBenchmarks.cs (one thread, AMD EPYC Zen 4 with AVX-512,
/// 2 cores shared with other builds: load average 13–20, so single ratios are ±30 %; the crossover is what is stable).
///
/// Dense time / sparse time ("vs dense", fastest iteration) over the shapes [1024×256], [256×1024], [1536×384], [3072×768]:
///   sparsity      0.50       0.70       0.80       0.90       0.95
///   M = 128    0.36–1.10  0.88–1.37  1.28–1.83  2.08–3.20  2.76–10.6
///   M = 16     0.56–1.54  1.07–1.75  1.32–2.76  1.77–3.79  3.10–9.99
///   M = 1      0.18–0.25  0.20–0.39  0.37–0.65  0.93–1.13  1.16–1.81
/// Why: the row-tile kernel does one broadcast-FMA per nonzero over 16 rows at ~1.3 cycles (three loads: column, value,
/// xᵀ row) against the dense kernel's ~1 FMA per cycle with no index traffic, and slices are padded to their longest
/// row (+9–34 % steps at 90 % zeros), so sparse pays off from ~70–75 % zeros for M ≥ 16. For M &lt; 16 a tile is padded to
/// 16 rows (M ≤ 2 use AVX2 gathers instead, ~12 cycles per 8 lanes on Zen 4) while dense M = 1 is a cheap weight
/// stream, so there sparse only wins from ~90–95 %.
/// Rule, with margin: sparse when sparsity ≥ 0.80 for the rows a forward pass usually has (batch × tokens ≥ 16),
/// ≥ 0.95 when callers expect fewer rows. Shape did not move the crossover beyond the noise, so it is not an input.
/// int8 (QuantizedLinear, dense weights) measured alongside is 0.8–1.9× dense at M ≥ 16 (2–3× at M = 1), so at ≥ 80 % zeros sparse fp32
/// is also faster than int8; an int8 sparse kernel is not built.
/// </summary>
public static class SparsePolicy
{
    /// <summary>Rows a forward pass is assumed to have when the caller does not know (one 128-token text).</summary>
    public const int TypicalRows = 128;
    /// <summary>Smallest sparsity that goes sparse for forward passes of at least 16 rows.</summary>
    public const double MinSparsity = 0.80;
    /// <summary>Smallest sparsity that goes sparse when fewer than 16 rows are expected.</summary>
    public const double MinSparsityFewRows = 0.95;

    /// <summary>Whether a [<paramref name="outFeatures"/>, <paramref name="inFeatures"/>] weight with this fraction of zeros
    /// runs faster through <see cref="SparseLinear"/> than <see cref="PackedLinear"/> at about <paramref name="expectedRows"/> rows.</summary>
    public static bool SparseIsFaster(double sparsity, int outFeatures, int inFeatures, int expectedRows = TypicalRows)
    {
        if (outFeatures <= 0 || inFeatures <= 0) return false;
        return sparsity >= MinSparsityFor(expectedRows);
    }

    private static double MinSparsityFor(int expectedRows) => expectedRows >= 16 ? MinSparsity : MinSparsityFewRows;

    /// <summary>
    /// <see cref="SparseIsFaster"/> for the weight itself, reading no more of it than needed: it stops as soon as it has
    /// seen more nonzeros than the threshold allows, so a dense matrix is rejected after ~20 % of its values. Counting
    /// every zero of every matrix cost ~12 ms of a 71 ms MiniLM cold start.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static bool ShouldUseSparse(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, int expectedRows = TypicalRows)
    {
        long count = (long)outFeatures * inFeatures;
        if (outFeatures <= 0 || inFeatures <= 0 || weight.Length < count) return false;
        // Fewer than floor(min · count) zeros is certainly below the threshold (floor keeps rounding on the safe side).
        long maxNonZeros = count - (long)Math.Floor(MinSparsityFor(expectedRows) * count);
        long nonZeros = 0;
        const int Chunk = 4096;
        for (long start = 0; start < count; start += Chunk)
        {
            foreach (float v in weight.Slice((int)start, (int)Math.Min(Chunk, count - start)))
                if (v != 0f) nonZeros++;
            if (nonZeros > maxNonZeros) return false;
        }
        return SparseIsFaster((double)(count - nonZeros) / count, outFeatures, inFeatures, expectedRows);
    }
}
