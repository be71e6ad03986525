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
    /// HF's Precompiled normalizer: each grapheme cluster shorter than 6 UTF-8 bytes is looked up whole (and replaced
    /// whole when a prefix of it is a key); otherwise, or when that misses, each code point is looked up on its own.
    /// Replacement code points span the original range of what they replace.
    /// </summary>
    public NormalizedText Apply(NormalizedText input)
    {
        var output = new NormalizedText(input.Count + 8);
        Span<byte> key = stackalloc byte[32];
        int i = 0;
        while (i < input.Count)
        {
            int g = GraphemeEnd(input, i);
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

    /// <summary>
    /// End of the grapheme cluster starting at <paramref name="i"/>: an approximation of UAX #29 that covers what a
    /// cluster under 6 UTF-8 bytes can be: CR LF, a character followed by marks / ZWJ / variation selectors, Hangul
    /// jamo sequences and regional-indicator pairs.
    /// </summary>
    internal static int GraphemeEnd(NormalizedText t, int i)
    {
        int cp = t.Chars[i], j = i + 1;
        if (cp == '\r') return j < t.Count && t.Chars[j] == '\n' ? j + 1 : j;
        if (cp == '\n' || UnicodeTables.IsOther(cp) && cp != 0x200D) return j;
        if (cp is >= 0x1F1E6 and <= 0x1F1FF && j < t.Count && t.Chars[j] is >= 0x1F1E6 and <= 0x1F1FF) return j + 1;
        if (IsHangul(cp))
            while (j < t.Count && HangulContinues(t.Chars[j - 1], t.Chars[j])) j++;
        while (j < t.Count && IsExtend(t.Chars[j])) j++;
        return j;
    }

    private static bool IsExtend(int cp) =>
        cp == 0x200D || cp is >= 0xFE00 and <= 0xFE0F || cp is >= 0xE0100 and <= 0xE01EF || cp is >= 0x1F3FB and <= 0x1F3FF
        || UnicodeTables.IsMark(cp);

    private static bool IsHangul(int cp) => cp is >= 0x1100 and <= 0x11FF or >= 0xAC00 and <= 0xD7A3 or >= 0xA960 and <= 0xA97F or >= 0xD7B0 and <= 0xD7FF;

    private static bool HangulContinues(int prev, int next)
    {
        bool L(int c) => c is >= 0x1100 and <= 0x115F or >= 0xA960 and <= 0xA97F;
        bool V(int c) => c is >= 0x1160 and <= 0x11A7 or >= 0xD7B0 and <= 0xD7C6;
        bool T(int c) => c is >= 0x11A8 and <= 0x11FF or >= 0xD7CB and <= 0xD7FF;
        bool LV(int c) => c is >= 0xAC00 and <= 0xD7A3 && (c - 0xAC00) % 28 == 0;
        bool LVT(int c) => c is >= 0xAC00 and <= 0xD7A3 && (c - 0xAC00) % 28 != 0;
        if (L(prev)) return L(next) || V(next) || next is >= 0xAC00 and <= 0xD7A3;
        if (LV(prev) || V(prev)) return V(next) || T(next);
        if (LVT(prev) || T(prev)) return T(next);
        return false;
    }
}
