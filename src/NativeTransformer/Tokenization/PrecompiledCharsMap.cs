using System.Buffers.Binary;
using System.Text;

namespace NativeTransformer.Tokenization;

/// <summary>
/// SentencePiece's <c>precompiled_charsmap</c> (the normalization rules of a .model file, also stored base64 in
/// tokenizer.json's Precompiled normalizer): a little-endian u32 byte length of the trie, the trie as u32 units of a
/// darts-clone double array keyed by UTF-8 bytes, then NUL-terminated UTF-8 replacement strings the trie's values
/// point into. Applied the way HF's Precompiled normalizer does (see <see cref="Apply"/>).
/// </summary>
internal sealed class PrecompiledCharsMap
{
    private readonly uint[] _units;
    private readonly byte[] _normalized;

    // What each BMP code point alone maps to: null = itself, else its replacement (looked up once at load; a cluster of
    // one code point is looked up the same way, so the common case never walks the trie).
    private readonly int[]?[] _bmp = new int[]?[0x10000];

    private PrecompiledCharsMap(uint[] units, byte[] normalized)
    {
        _units = units;
        _normalized = normalized;
        Span<byte> key = stackalloc byte[4];
        var seen = new Dictionary<(int, int), int[]>();
        for (int cp = 0; cp < 0x10000; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            int n = new Rune(cp).EncodeToUtf8(key);
            if (!Transform(key[..n], out int from, out int to)) continue;
            if (!seen.TryGetValue((from, to), out var r))
            {
                var list = new List<int>();
                foreach (var rune in System.Text.Encoding.UTF8.GetString(_normalized, from, to - from).EnumerateRunes()) list.Add(rune.Value);
                seen[(from, to)] = r = list.ToArray();
            }
            _bmp[cp] = r;
        }
    }

    /// <summary>Parses the blob. Garbage is rejected when the framing is wrong; a malformed trie can only make
    /// lookups miss (every index is bounds-checked), never crash or loop.</summary>
    public static PrecompiledCharsMap Parse(ReadOnlySpan<byte> blob, string where)
    {
        if (blob.Length < 4) throw new TokenizerException($"{where}: precompiled_charsmap is {blob.Length} bytes, too short for its header");
        uint trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieBytes % 4 != 0 || trieBytes == 0 || trieBytes > blob.Length - 4)
            throw new TokenizerException($"{where}: precompiled_charsmap declares a {trieBytes}-byte trie in a {blob.Length}-byte blob");
        var units = new uint[trieBytes / 4];
        for (int i = 0; i < units.Length; i++) units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.Slice(4 + 4 * i));
        return new PrecompiledCharsMap(units, blob.Slice(4 + (int)trieBytes).ToArray());
    }

    public static PrecompiledCharsMap FromBase64(string base64, string where)
    {
        byte[] blob;
        try { blob = Convert.FromBase64String(base64); }
        catch (FormatException e) { throw new TokenizerException($"{where}: precompiled_charsmap is not valid base64", e); }
        return Parse(blob, where);
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;
    private static uint Label(uint unit) => unit & ((1u << 31) | 0xFF);
    private static int Value(uint unit) => (int)(unit & 0x7FFFFFFF);

    /// <summary>The replacement of the shortest key that is a prefix of <paramref name="key"/> (what HF's
    /// <c>transform</c> takes: the first common-prefix-search result), as a byte range of the string table; false
    /// when no key is a prefix.</summary>
    private bool Transform(ReadOnlySpan<byte> key, out int from, out int to)
    {
        from = to = 0;
        uint pos = Offset(_units[0]);
        foreach (byte c in key)
        {
            if (c == 0) return false;
            pos ^= c;
            if (pos >= (uint)_units.Length) return false;
            uint unit = _units[pos];
            if (Label(unit) != c) return false;
            pos ^= Offset(unit);
            if (pos >= (uint)_units.Length) return false;
            if (HasLeaf(unit))
            {
                int v = Value(_units[pos]);
                if (v > _normalized.Length) return false;
                int end = v;
                while (end < _normalized.Length && _normalized[end] != 0) end++;
                from = v; to = end;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// HF's Precompiled normalizer: each extended grapheme cluster (UAX #29) shorter than 6 UTF-8 bytes is looked up
    /// whole (and replaced whole when a prefix of it is a key); otherwise, or when that misses, each code point is
    /// looked up on its own. Replacement code points span the original range of what they replace.
    /// </summary>
    public NormalizedText Apply(NormalizedText input)
    {
        var output = new NormalizedText(input.Count + 8);
        Span<byte> key = stackalloc byte[32];
        // ASCII other than CR followed by ASCII is a cluster of its own; the UTF-16 copy that segmentation reads is
        // made at the first other character (every code point before it is one UTF-16 unit).
        ReadOnlySpan<char> units = default;
        bool haveUnits = false;
        int i = 0, u = 0;
        while (i < input.Count)
        {
            int g;
            if (!haveUnits && input.Chars[i] < 0x80 && input.Chars[i] != '\r' && (i + 1 == input.Count || input.Chars[i + 1] < 0x80)) g = i + 1;
            else
            {
                if (!haveUnits) { units = Utf16Buffer(input); haveUnits = true; u = i; }
                g = GraphemeEnd(input, i, units, ref u);
            }
            if (g == i + 1 && input.Chars[i] < 0x10000)
            {
                if (_bmp[input.Chars[i]] is { } rep) foreach (int c in rep) output.Add(c, input.Start[i], input.End[i]);
                else output.Add(input.Chars[i], input.Start[i], input.End[i]);
                i = g;
                continue;
            }
            int len = Utf8Length(input, i, g, key);
            if (len < 6 && Transform(key[..len], out int from, out int to))
                Emit(output, from, to, input.Start[i], input.End[g - 1]);
            else
                for (int k = i; k < g; k++)
                {
                    int n = new Rune(input.Chars[k]).EncodeToUtf8(key);
                    if (Transform(key[..n], out from, out to)) Emit(output, from, to, input.Start[k], input.End[k]);
                    else output.Add(input.Chars[k], input.Start[k], input.End[k]);
                }
            i = g;
        }
        return output;
    }

    [ThreadStatic] private static char[]? t_units;

    /// <summary>The code points as UTF-16 in a per-thread buffer (grapheme segmentation reads UTF-16).</summary>
    private static ReadOnlySpan<char> Utf16Buffer(NormalizedText t)
    {
        var buf = t_units;
        if (buf == null || buf.Length < 2 * t.Count) t_units = buf = new char[Math.Max(256, 2 * t.Count)];
        int n = 0;
        for (int i = 0; i < t.Count; i++)
        {
            int cp = t.Chars[i];
            if (cp < 0x10000) buf[n++] = (char)cp;
            else { buf[n++] = (char)(0xD7C0 + (cp >> 10)); buf[n++] = (char)(0xDC00 | (cp & 0x3FF)); }
        }
        return buf.AsSpan(0, n);
    }

    /// <summary>
    /// End (code-point index) of the extended grapheme cluster starting at code point <paramref name="i"/>, whose
    /// UTF-16 position in <paramref name="units"/> is <paramref name="u"/> (advanced past the cluster). The rules are
    /// .NET's UAX #29 implementation (managed data, the same under InvariantGlobalization), as HF's Rust side uses the
    /// unicode-segmentation crate's; ASCII other than CR takes a shortcut.
    /// </summary>
    internal static int GraphemeEnd(NormalizedText t, int i, ReadOnlySpan<char> units, ref int u)
    {
        if (u + 1 < units.Length && units[u] < 0x80 && units[u] != '\r' && units[u + 1] < 0x80) { u++; return i + 1; }
        int len = System.Globalization.StringInfo.GetNextTextElementLength(units[u..]);
        int end = u + len, j = i;
        while (u < end) { u += t.Chars[j] < 0x10000 ? 1 : 2; j++; }
        return j;
    }

    private void Emit(NormalizedText output, int from, int to, int start, int end)
    {
        var s = System.Text.Encoding.UTF8.GetString(_normalized, from, to - from);
        foreach (var r in s.EnumerateRunes()) output.Add(r.Value, start, end);
    }

    /// <summary>UTF-8 length of code points [from, to), encoded into <paramref name="key"/> when it fits.</summary>
    private static int Utf8Length(NormalizedText t, int from, int to, Span<byte> key)
    {
        int len = 0;
        for (int k = from; k < to; k++)
        {
            var r = new Rune(t.Chars[k]);
            if (len + 4 > key.Length) return len + r.Utf8SequenceLength + 100; // too long to be looked up whole
            len += r.EncodeToUtf8(key[len..]);
        }
        return len;
    }
}
