using System.Security.Cryptography;
using System.Text;

namespace NativeTransformer.Serving;

/// <summary>The key clients must send as <c>Authorization: Bearer KEY</c>. Only its SHA-256 is kept, compared in constant
/// time (hashing first also hides the key's length); <see cref="ToString"/> never shows it, so a logged ServeOptions cannot leak it.</summary>
public sealed class ApiKey
{
    private readonly byte[] _hash;

    public ApiKey(string key)
    {
        if (string.IsNullOrEmpty(key)) throw new ArgumentException("the API key is empty");
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }

    public bool Matches(string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _hash);

    public override string ToString() => "ApiKey(***)";
}
