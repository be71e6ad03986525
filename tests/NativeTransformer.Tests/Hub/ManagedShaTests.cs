using System.Security.Cryptography;
using System.Text;
using NativeTransformer.Hub;

namespace NativeTransformer.Tests.Hub;

/// <summary>The hub's own SHA-256 / SHA-1 (no OpenSSL) against System.Security.Cryptography and the FIPS 180 vectors.</summary>
public class ManagedShaTests
{
    [Theory]
    [InlineData("sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha256", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    [InlineData("sha1", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709")]
    [InlineData("sha1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d")]
    [InlineData("sha1", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1")]
    public void KnownAnswers(string algorithm, string text, string expected)
    {
        ManagedSha sha = algorithm == "sha256" ? new ManagedSha256() : new ManagedSha1();
        sha.Append(Encoding.ASCII.GetBytes(text));
        Assert.Equal(expected, sha.FinishHex());
    }

    [Fact]
    public void MillionAs()
    {
        var data = Encoding.ASCII.GetBytes(new string('a', 1_000_000));
        Assert.Equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", ManagedSha256.HashHex(new MemoryStream(data)));
        var sha1 = new ManagedSha1();
        sha1.Append(new MemoryStream(data));
        Assert.Equal("34aa973cd4c4daa4f61eeb2bdbad27316534016f", sha1.FinishHex());
    }

    /// <summary>Every length 0..300 (all padding cases: tails below and above 56 bytes, whole blocks), appended in
    /// random pieces, equals the platform's hashes.</summary>
    [Fact]
    public void EveryLengthInRandomPiecesMatchesThePlatform()
    {
        var rng = new Random(20261122);
        for (int length = 0; length <= 300; length++)
        {
            var data = new byte[length];
            rng.NextBytes(data);
            var sha256 = new ManagedSha256();
            var sha1 = new ManagedSha1();
            for (int at = 0; at < length;)
            {
                int piece = Math.Min(length - at, rng.Next(0, 80));
                sha256.Append(data.AsSpan(at, piece));
                sha1.Append(data.AsSpan(at, piece));
                at += piece;
            }
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), sha256.FinishHex());
            Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(data)), sha1.FinishHex());
        }
    }
}
