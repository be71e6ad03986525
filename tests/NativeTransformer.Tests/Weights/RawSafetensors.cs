using System.Buffers.Binary;
using System.Text;

namespace NativeTransformer.Tests.Weights;

/// <summary>Builds safetensors bytes by hand (header length prefix + header + data), valid or deliberately broken.</summary>
internal static class RawSafetensors
{
    /// <summary>8-byte little-endian length of <paramref name="header"/>, the header bytes, then <paramref name="dataBytes"/> bytes 0, 1, 2...</summary>
    public static byte[] Build(byte[] header, int dataBytes)
    {
        var data = new byte[dataBytes];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)i;
        return Concat(Prefix((ulong)header.Length), header, data);
    }

    public static byte[] Build(string headerJson, int dataBytes) => Build(Encoding.UTF8.GetBytes(headerJson), dataBytes);

    public static byte[] Prefix(ulong headerLength)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, headerLength);
        return b;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
