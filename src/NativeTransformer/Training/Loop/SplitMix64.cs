namespace NativeTransformer.Training.Loop;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): our own generator so a seed gives the same shuffles on every .NET version
/// (System.Random's algorithm is not part of its contract). The whole state is one ulong, which checkpoints store.
/// </summary>
public sealed class SplitMix64(ulong state)
{
    public ulong State { get; set; } = state;

    public ulong Next()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n) without modulo bias (rejects the top partial block).</summary>
    public int NextBelow(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)n;
        ulong r;
        do r = Next(); while (r >= limit);
        return (int)(r % (ulong)n);
    }

    /// <summary>Fisher–Yates, from the last position down (as Durstenfeld).</summary>
    public void Shuffle(int[] items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
