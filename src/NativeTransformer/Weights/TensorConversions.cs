using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NativeTransformer.Weights;

/// <summary>
/// Decodes little-endian safetensors element bytes into float32 or int64 arrays. Shared by every
/// <see cref="ITensorSource"/> so that all sources widen and narrow the same way.
/// </summary>
internal static class TensorConversions
{
    /// <summary>
    /// F32 copied (used for misaligned data or big-endian hosts), F16 widened exactly via <see cref="Half"/>,
    /// BF16 widened exactly by shifting its 16 bits into the top of a float32, F64 narrowed with
    /// round-to-nearest (values beyond float range become ±infinity).
    /// </summary>
    public static float[] ToFloat32(ReadOnlySpan<byte> bytes, DType dtype)
    {
        switch (dtype)
        {
            case DType.F32:
            {
                var result = new float[bytes.Length / 4];
                if (BitConverter.IsLittleEndian) bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
                else for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
                return result;
            }
            case DType.F16:
            {
                var result = new float[bytes.Length / 2];
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]);
                return result;
            }
            case DType.BF16:
            {
                var result = new float[bytes.Length / 2];
                for (int i = 0; i < result.Length; i++)
                    result[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16);
                return result;
            }
            case DType.F64:
            {
                var result = new float[bytes.Length / 8];
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]);
                return result;
            }
            default:
                throw new ArgumentException($"{dtype} is not a floating-point dtype", nameof(dtype));
        }
    }

    /// <summary>Widens any integer dtype (and BOOL: 0 or 1) to long. U64 values above <see cref="long.MaxValue"/>
    /// throw <see cref="WeightException"/>.</summary>
    public static long[] ToInt64(ReadOnlySpan<byte> bytes, DType dtype, string key)
    {
        int size = dtype.SizeInBytes();
        var result = new long[bytes.Length / size];
        for (int i = 0; i < result.Length; i++)
        {
            var b = bytes[(i * size)..];
            result[i] = dtype switch
            {
                DType.BOOL => b[0] != 0 ? 1 : 0,
                DType.U8 => b[0],
                DType.I8 => (sbyte)b[0],
                DType.I16 => BinaryPrimitives.ReadInt16LittleEndian(b),
                DType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
                DType.I32 => BinaryPrimitives.ReadInt32LittleEndian(b),
                DType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
                DType.I64 => BinaryPrimitives.ReadInt64LittleEndian(b),
                DType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(b) is var u && u <= long.MaxValue
                    ? (long)u
                    : throw new WeightException(key, $"tensor '{key}': U64 element {i} = {BinaryPrimitives.ReadUInt64LittleEndian(b)} does not fit in a signed 64-bit integer"),
                _ => throw new ArgumentException($"{dtype} is not an integer dtype", nameof(dtype)),
            };
        }
        return result;
    }
}
