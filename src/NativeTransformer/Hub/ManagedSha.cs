using System.Buffers.Binary;
using System.Numerics;

namespace NativeTransformer.Hub;

/// <summary>
/// SHA-256 and SHA-1 (FIPS 180-4) in plain C#, incremental, for checking hub downloads. Why not
/// System.Security.Cryptography: on Linux it hashes through the system's OpenSSL, which .NET loads on first use
/// and, when the machine has none (distroless and scratch containers), stops the process with a native abort that no
/// code can catch. With these, fetching from a plain-http hub mirror needs no native library at all; only TLS does.
/// Cost: scalar code, measured 228 MB/s for SHA-256 and 315 MB/s for SHA-1 on the development machine (OpenSSL with
/// the CPU's SHA instructions: 1.7 GB/s), i.e. 0.4 s once per download of a 90 MB MiniLM; .NET has no SHA intrinsics.
/// Tested against System.Security.Cryptography on every length 0..300 with random chunking, and the FIPS vectors.
/// </summary>
internal abstract class ManagedSha(uint[] initialState)
{
    /// <summary>The chaining state (H0..H7 for SHA-256, H0..H4 for SHA-1); the digest is these words big-endian.</summary>
    protected readonly uint[] State = initialState;
    private readonly byte[] _block = new byte[64];
    private int _filled;
    private long _length;

    /// <summary>Hashes <paramref name="data"/> after everything appended so far.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        _length += data.Length;
        if (_filled > 0)
        {
            int take = Math.Min(64 - _filled, data.Length);
            data[..take].CopyTo(_block.AsSpan(_filled));
            _filled += take;
            data = data[take..];
            if (_filled < 64) return;
            Compress(_block);
            _filled = 0;
        }
        for (; data.Length >= 64; data = data[64..]) Compress(data[..64]);
        data.CopyTo(_block);
        _filled = data.Length;
    }

    /// <summary>Reads <paramref name="stream"/> to its end into the hash.</summary>
    public void Append(Stream stream)
    {
        var buffer = new byte[1 << 16];
        for (int n; (n = stream.Read(buffer)) > 0;) Append(buffer.AsSpan(0, n));
    }

    /// <summary>Pads (0x80, zeros, the bit length big-endian) and returns the digest as lowercase hex.</summary>
    public string FinishHex()
    {
        long bits = checked(_length * 8);
        Span<byte> tail = stackalloc byte[72];
        tail.Clear();
        tail[0] = 0x80;
        int pad = (_filled < 56 ? 56 : 120) - _filled;
        BinaryPrimitives.WriteInt64BigEndian(tail[pad..], bits);
        Append(tail[..(pad + 8)]);
        var digest = new byte[4 * State.Length];
        for (int i = 0; i < State.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(digest.AsSpan(4 * i), State[i]);
        return Convert.ToHexStringLower(digest);
    }

    protected abstract void Compress(ReadOnlySpan<byte> block);
}

/// <summary>SHA-256: eight 32-bit words of state, 64 rounds per 64-byte block.</summary>
internal sealed class ManagedSha256() : ManagedSha([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])
{
    private static ReadOnlySpan<uint> K =>
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    /// <summary>SHA-256 of a whole stream, lowercase hex.</summary>
    public static string HashHex(Stream stream)
    {
        var sha = new ManagedSha256();
        sha.Append(stream);
        return sha.FinishHex();
    }

    protected override void Compress(ReadOnlySpan<byte> block)
    {
        Span<uint> w = stackalloc uint[64];
        ReadOnlySpan<uint> k = K;
        for (int t = 0; t < 16; t++) w[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(4 * t)..]);
        for (int t = 16; t < 64; t++)
        {
            uint s0 = BitOperations.RotateRight(w[t - 15], 7) ^ BitOperations.RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint s1 = BitOperations.RotateRight(w[t - 2], 17) ^ BitOperations.RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint a = State[0], b = State[1], c = State[2], d = State[3], e = State[4], f = State[5], g = State[6], h = State[7];
        for (int t = 0; t < 64; t++)
        {
            uint sum1 = BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25);
            uint choose = (e & f) ^ (~e & g);
            uint t1 = h + sum1 + choose + k[t] + w[t];
            uint sum0 = BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22);
            uint majority = (a & b) ^ (a & c) ^ (b & c);
            uint t2 = sum0 + majority;
            h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        State[0] += a; State[1] += b; State[2] += c; State[3] += d; State[4] += e; State[5] += f; State[6] += g; State[7] += h;
    }

}

/// <summary>SHA-1: five 32-bit words of state, 80 rounds per 64-byte block. Only for git blob ids (the hub's
/// etag of small files), where it names content rather than defends against an attacker.</summary>
internal sealed class ManagedSha1() : ManagedSha([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0])
{
    protected override void Compress(ReadOnlySpan<byte> block)
    {
        Span<uint> w = stackalloc uint[80];
        for (int t = 0; t < 16; t++) w[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(4 * t)..]);
        for (int t = 16; t < 80; t++) w[t] = BitOperations.RotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        uint a = State[0], b = State[1], c = State[2], d = State[3], e = State[4];
        for (int t = 0; t < 80; t++)
        {
            (uint f, uint k) = t switch
            {
                < 20 => ((b & c) | (~b & d), 0x5a827999u),
                < 40 => (b ^ c ^ d, 0x6ed9eba1u),
                < 60 => ((b & c) | (b & d) | (c & d), 0x8f1bbcdcu),
                _ => (b ^ c ^ d, 0xca62c1d6u),
            };
            uint temp = BitOperations.RotateLeft(a, 5) + f + e + k + w[t];
            e = d; d = c; c = BitOperations.RotateLeft(b, 30); b = a; a = temp;
        }
        State[0] += a; State[1] += b; State[2] += c; State[3] += d; State[4] += e;
    }

}
