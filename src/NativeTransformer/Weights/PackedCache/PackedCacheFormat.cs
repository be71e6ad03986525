using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace NativeTransformer.Weights.PackedCache;

/// <summary>
/// The packed-weights cache file (<c>*.ntrpack</c>), little-endian:
/// <code>
///  0  8 bytes  magic "NTRPACK1"
///  8  int32    format version (<see cref="Version"/>)
/// 12  int32    panel width the panels were packed for (PackedMatrix.PanelWidth)
/// 16  int32    flags (bit 0: the source weights were scanned for NaN/Inf and all finite, see PackedWeightsCache)
/// 20  int32    entry count
/// 24  int64    data offset (64-byte aligned; where the payload starts)
/// 32  int64    file length (a multiple of 64)
/// 40  uint64   checksum of bytes [56, data offset): identity and entry table
/// 48  uint64   checksum of bytes [data offset, file length): panels and biases
/// 56  string   source identity (7-bit length-prefixed UTF-8, as BinaryWriter writes it)
///     entries  string key, int32 out, int32 in, int32 kind (0 packed, 1 sparse), int64 panel offset,
///              int64 bias offset, int32 bias length (floats)
///     zero padding to the data offset, then every packed entry's panels and bias, each 64-byte aligned
/// </code>
/// A sparse entry only records that the policy chose the sparse kernel (no payload). Everything read back is checked
/// (magic, version, panel width, both checksums, every offset in range and aligned); anything off makes the file a miss.
/// </summary>
internal static class PackedCacheFormat
{
    public const int Version = 1;
    public const int HeaderFixedBytes = 56;
    public const int Alignment = 64;
    public const int KindPacked = 0, KindSparse = 1;
    public const int FlagsOffset = 16, FlagSourceValidated = 1;
    public static ReadOnlySpan<byte> Magic => "NTRPACK1"u8;

    public readonly record struct Entry(string Key, int Out, int In, int Kind, long PanelOffset, long BiasOffset, int BiasLength);

    public static long Align(long offset) => (offset + Alignment - 1) & ~(long)(Alignment - 1);

    /// <summary>The entry table region [56, data offset) as written (identity, entries); offsets must already be final.</summary>
    public static byte[] Table(string identity, IReadOnlyList<Entry> entries)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(identity);
            foreach (var e in entries)
            {
                w.Write(e.Key); w.Write(e.Out); w.Write(e.In); w.Write(e.Kind);
                w.Write(e.PanelOffset); w.Write(e.BiasOffset); w.Write(e.BiasLength);
            }
        }
        return ms.ToArray();
    }

    /// <summary>Parses and checks a mapped cache file of <paramref name="length"/> bytes; null when it is not a valid cache for
    /// <paramref name="identity"/>. Never throws for bad content.</summary>
    public static unsafe Dictionary<string, Entry>? Read(byte* file, long length, string identity, int panelWidth)
    {
        try
        {
            if (length < Alignment || length % Alignment != 0) return null;
            var head = new ReadOnlySpan<byte>(file, HeaderFixedBytes);
            if (!head[..8].SequenceEqual(Magic)) return null;
            int version = BitConverter.ToInt32(head[8..]), width = BitConverter.ToInt32(head[12..]), count = BitConverter.ToInt32(head[20..]);
            long dataOffset = BitConverter.ToInt64(head[24..]), fileLength = BitConverter.ToInt64(head[32..]);
            ulong tableSum = BitConverter.ToUInt64(head[40..]), payloadSum = BitConverter.ToUInt64(head[48..]);
            if (version != Version || width != panelWidth || fileLength != length || count < 0) return null;
            if (dataOffset < Alignment || dataOffset > length || dataOffset % Alignment != 0) return null;
            if (Checksum(new ReadOnlySpan<byte>(file + HeaderFixedBytes, checked((int)(dataOffset - HeaderFixedBytes)))) != tableSum) return null;

            using var stream = new UnmanagedMemoryStream(file + HeaderFixedBytes, dataOffset - HeaderFixedBytes);
            using var r = new BinaryReader(stream, Encoding.UTF8);
            if (r.ReadString() != identity) return null;
            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                var e = new Entry(r.ReadString(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32());
                if (!IsSound(e, dataOffset, length) || !entries.TryAdd(e.Key, e)) return null;
            }
            // The payload checksum reads every panel once: the first forward pass would fault these pages in anyway.
            if (Checksum(new ReadOnlySpan<byte>(file + dataOffset, checked((int)(length - dataOffset)))) != payloadSum) return null;
            return entries;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or OverflowException or DecoderFallbackException)
        {
            return null;
        }
    }

    private static bool IsSound(Entry e, long dataOffset, long length)
    {
        if (e.Out <= 0 || e.In <= 0) return false;
        if (e.Kind == KindSparse) return e.PanelOffset == 0 && e.BiasOffset == 0 && e.BiasLength == 0;
        if (e.Kind != KindPacked) return false;
        long panelBytes = Kernels.Packed.PackedMatrix.FloatCount(e.Out, e.In) * sizeof(float);
        return InRange(e.PanelOffset, panelBytes, dataOffset, length)
            && (e.BiasLength == 0 ? e.BiasOffset == 0 : e.BiasLength == e.Out && InRange(e.BiasOffset, (long)e.BiasLength * sizeof(float), dataOffset, length));
    }

    private static bool InRange(long offset, long bytes, long dataOffset, long length) =>
        offset % Alignment == 0 && offset >= dataOffset && bytes >= 0 && bytes <= length && offset <= length - bytes;

    /// <summary>
    /// A Fletcher-style sum over 64-bit words (4 interleaved lanes: word i feeds lane i mod 4; per lane s1 += word,
    /// s2 += s1), folded through a 64-bit mixer. Detects damage (flipped bits, zeroed or swapped blocks), not tampering. The length
    /// must be a multiple of 8. This is the SIMD version of <see cref="ChecksumReference"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ulong Checksum(ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        Vector256<ulong> s1 = Vector256<ulong>.Zero, s2 = Vector256<ulong>.Zero;
        int i = 0;
        ref ulong w0 = ref MemoryMarshal.GetReference(words);
        for (; i <= words.Length - 4; i += 4)
        {
            s1 += Vector256.LoadUnsafe(ref w0, (nuint)i);
            s2 += s1;
        }
        Span<ulong> a = stackalloc ulong[4], b = stackalloc ulong[4];
        s1.CopyTo(a); s2.CopyTo(b);
        for (int j = 0; i < words.Length; i++, j++) { a[j] += words[i]; b[j] += a[j]; }
        return Fold(a, b, data.Length);
    }

    /// <summary>Scalar oracle of <see cref="Checksum"/>.</summary>
    public static ulong ChecksumReference(ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        Span<ulong> a = stackalloc ulong[4], b = stackalloc ulong[4];
        a.Clear(); b.Clear(); // explicit, so the oracle stays right if SkipLocalsInit is ever turned on
        for (int i = 0; i < words.Length; i++) { a[i % 4] += words[i]; b[i % 4] += a[i % 4]; }
        return Fold(a, b, data.Length);
    }

    // Each lane value goes through murmur3's 64-bit finalizer (a bijection with full avalanche): a plain FNV-style
    // fold lets a high-bit change in s1 cancel against the matching change in s2.
    private static ulong Fold(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, int length)
    {
        ulong h = 14695981039346656037UL;
        foreach (ulong x in a) h = Mix(h ^ x);
        foreach (ulong x in b) h = Mix(h ^ x);
        return Mix(h ^ (ulong)length);
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33; x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53UL;
        return x ^ (x >> 33);
    }
}
