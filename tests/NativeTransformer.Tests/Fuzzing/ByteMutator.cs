using System.Buffers.Binary;
using System.Text;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Deterministic byte-level mutations of a valid input, AFL style: bit flips, random and "interesting" bytes and
/// integers, inserted / deleted / duplicated ranges, dictionary tokens (structural words of the format), splices with
/// another valid input, and truncation. Several mutations are stacked per input.
/// </summary>
public sealed class ByteMutator
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x0A, 0x22, 0x5C, 0xC0, 0xED, 0xEF, 0xF4, 0xF8];

    private static readonly long[] InterestingIntegers =
    [
        0, 1, -1, 2, 7, 8, 16, 64, 127, 128, 255, 256, 4096, 65535, 65536, int.MaxValue, int.MinValue, (long)int.MaxValue + 1,
        uint.MaxValue, (long)uint.MaxValue + 1, long.MaxValue, long.MinValue, 100_000_000, 100_000_001,
    ];

    /// <summary>Numbers as JSON text: overflow, negative, float, exponent forms.</summary>
    public static readonly string[] InterestingNumberTexts =
    [
        "0", "-0", "1", "-1", "2", "3", "4", "8", "12", "128", "512", "30522", "2147483647", "2147483648", "-2147483648",
        "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
        "1e9", "1e308", "1e309", "-1e309", "1.5", "0.0", "1E2", "0x10", "NaN", "Infinity", "01", "1000000000", "99999999999999999999999",
    ];

    private readonly byte[][] _dictionary;
    private readonly byte[][] _others;
    private readonly int _focusLength;

    /// <param name="dictionary">Structural tokens of the format (JSON punctuation, key names, dtype names...).</param>
    /// <param name="splicePartners">Other valid inputs to splice with (may be empty).</param>
    /// <param name="focusLength">When &gt; 0, three quarters of the positions fall in the first focusLength bytes (e.g. a
    /// safetensors header, where the parser lives, rather than tensor data).</param>
    public ByteMutator(IEnumerable<string> dictionary, IEnumerable<byte[]>? splicePartners = null, int focusLength = 0)
    {
        _dictionary = dictionary.Select(Encoding.UTF8.GetBytes).Concat(InterestingNumberTexts.Select(Encoding.UTF8.GetBytes)).ToArray();
        _others = splicePartners?.ToArray() ?? [];
        _focusLength = focusLength;
    }

    /// <summary>Structural tokens of JSON, plus strings that trip UTF-8 and escape handling.</summary>
    public static readonly string[] JsonTokens =
    [
        "{", "}", "[", "]", "\"", ",", ":", " ", "null", "true", "false", "\\", "\\u0000", "\\ud800", "\\udfff", "\\\"", "{}", "[]",
        "\"\"", "[[[[[[[[[[[[", "{\"a\":{\"a\":{\"a\":{\"a\":", "\u00e9", "\U0001F600", "\uFEFF", "//", "/*", "*/", ",,",
    ];

    public byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int count = 1 + random.Next(1 + random.Next(8)); // mostly 1-2 mutations, sometimes up to 8
        for (int m = 0; m < count; m++) MutateOnce(bytes, random);
        return bytes.ToArray();
    }

    private void MutateOnce(List<byte> b, Random r)
    {
        switch (r.Next(13))
        {
            case 0 when b.Count > 0: { int at = Pos(b, r); b[at] ^= (byte)(1 << r.Next(8)); break; }
            case 1 when b.Count > 0: b[Pos(b, r)] = (byte)r.Next(256); break;
            case 2 when b.Count > 0: b[Pos(b, r)] = InterestingBytes[r.Next(InterestingBytes.Length)]; break;
            case 3 when b.Count > 0: // an interesting integer written little-endian (length prefixes, binary fields)
            {
                int width = 1 << r.Next(4);
                Span<byte> v = stackalloc byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(v, InterestingIntegers[r.Next(InterestingIntegers.Length)]);
                int at = Pos(b, r);
                for (int k = 0; k < width && at + k < b.Count; k++) b[at + k] = v[k];
                break;
            }
            case 4: { var bytes = new byte[1 + r.Next(16)]; r.NextBytes(bytes); b.InsertRange(Pos(b, r, insert: true), bytes); break; }
            case 5 when b.Count > 0: { int at = Pos(b, r); b.RemoveRange(at, Math.Min(b.Count - at, 1 + r.Next(r.Next(2) == 0 ? 4 : 64))); break; }
            case 6 when b.Count > 1: // duplicate a range somewhere else
            {
                int from = Pos(b, r), len = Math.Min(b.Count - from, 1 + r.Next(32));
                var chunk = b.GetRange(from, len);
                b.InsertRange(Pos(b, r, insert: true), chunk);
                break;
            }
            case 7 or 8: b.InsertRange(Pos(b, r, insert: true), _dictionary[r.Next(_dictionary.Length)]); break;
            case 9 when b.Count > 0: // overwrite with a dictionary token
            {
                var token = _dictionary[r.Next(_dictionary.Length)];
                int at = Pos(b, r);
                for (int k = 0; k < token.Length; k++) { if (at + k < b.Count) b[at + k] = token[k]; else b.Add(token[k]); }
                break;
            }
            case 10 when b.Count > 0: ReplaceDigitRun(b, r); break;
            case 11 when _others.Length > 0: // splice: our head, a partner's tail
            {
                var other = _others[r.Next(_others.Length)];
                int cut = Pos(b, r, insert: true), from = r.Next(other.Length + 1);
                b.RemoveRange(cut, b.Count - cut);
                b.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 12 when b.Count > 0: { int cut = r.Next(b.Count); b.RemoveRange(cut, b.Count - cut); break; }
            default: if (b.Count > 0) b[Pos(b, r)] ^= 0xFF; break;
        }
    }

    /// <summary>Replaces the ASCII number at a random position (if any) with an interesting number text.</summary>
    private void ReplaceDigitRun(List<byte> b, Random r)
    {
        int at = Pos(b, r);
        int start = -1;
        for (int k = 0; k < b.Count; k++)
        {
            int p = (at + k) % b.Count;
            if (b[p] is >= (byte)'0' and <= (byte)'9') { start = p; break; }
        }
        if (start < 0) return;
        while (start > 0 && b[start - 1] is >= (byte)'0' and <= (byte)'9' or (byte)'-') start--;
        int end = start;
        while (end < b.Count && b[end] is >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+') end++;
        b.RemoveRange(start, end - start);
        b.InsertRange(start, Encoding.UTF8.GetBytes(InterestingNumberTexts[r.Next(InterestingNumberTexts.Length)]));
    }

    private int Pos(List<byte> b, Random r, bool insert = false)
    {
        int n = b.Count + (insert ? 1 : 0);
        if (n == 0) return 0;
        return _focusLength > 0 && r.Next(4) != 0 ? r.Next(Math.Min(n, _focusLength)) : r.Next(n);
    }
}
