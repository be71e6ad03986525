using System.Globalization;

namespace NativeTransformer;

/// <summary>
/// Memory sizes as users type them (<c>--max-memory</c>): a positive decimal number, optionally with a fraction, then an
/// optional unit, case-insensitive, no spaces: none or B = bytes; K, KB, KiB = 1024; M, MB, MiB = 1024²; G, GB, GiB = 1024³;
/// T, TB, TiB = 1024⁴. Every unit is binary, as in <c>docker --memory</c> and <c>java -Xmx</c>, so 1500MB = 1500 MiB.
/// Examples: 512M, 2G, 1.5GiB, 1500MB, 1073741824.
/// </summary>
public static class ByteSize
{
    private static readonly (string Suffix, int Shift)[] Units =
    [
        ("kib", 10), ("mib", 20), ("gib", 30), ("tib", 40),
        ("kb", 10), ("mb", 20), ("gb", 30), ("tb", 40),
        ("k", 10), ("m", 20), ("g", 30), ("t", 40), ("b", 0),
    ];

    /// <summary>Parses <paramref name="text"/>; throws <see cref="InputException"/> naming the grammar when it does not match,
    /// is zero, or exceeds <see cref="long.MaxValue"/> bytes.</summary>
    public static long Parse(string text)
    {
        if (TryParse(text, out long bytes)) return bytes;
        throw new InputException($"'{text}' is not a memory size: a positive number with an optional unit B, K/KB/KiB, M/MB/MiB, G/GB/GiB " +
            "or T/TB/TiB (all powers of 1024), e.g. 512M, 2G, 1500MB");
    }

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrEmpty(text)) return false;
        string lower = text.ToLowerInvariant();
        int shift = 0;
        foreach (var (suffix, s) in Units)
            if (lower.EndsWith(suffix, StringComparison.Ordinal)) { lower = lower[..^suffix.Length]; shift = s; break; }
        // Digits with at most one '.', at least one digit: no sign, exponent, spaces or separators.
        if (lower.Length == 0 || lower.Count(c => c == '.') > 1 || lower.Any(c => c != '.' && !char.IsAsciiDigit(c)) || !lower.Any(char.IsAsciiDigit))
            return false;
        if (!decimal.TryParse(lower, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number)) return false;
        decimal value = number * (decimal)Math.Pow(2, shift);
        if (value < 1 || value > long.MaxValue) return false;
        bytes = (long)decimal.Floor(value);
        return true;
    }
}
