namespace NativeTransformer.Weights;

/// <summary>Element types of the safetensors format, named as the header spells them.</summary>
/// <remarks>The declaration order matches the Rust <c>safetensors::Dtype</c> enum (for these members), which the
/// writer relies on to lay tensors out the way Hugging Face's writer does (largest alignment first).</remarks>
public enum DType { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 }

/// <summary>Facts about <see cref="DType"/> values: element size, header spelling, float/integer kind.</summary>
public static class DTypes
{
    /// <summary>Size of one element in bytes (BOOL is one byte per element, as in the spec).</summary>
    public static int SizeInBytes(this DType dtype) => dtype switch
    {
        DType.BOOL or DType.U8 or DType.I8 => 1,
        DType.I16 or DType.U16 or DType.F16 or DType.BF16 => 2,
        DType.I32 or DType.U32 or DType.F32 => 4,
        DType.F64 or DType.I64 or DType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>True for F16, BF16, F32 and F64: the dtypes <see cref="ITensorSource.GetFloat32"/> accepts.</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.F16 or DType.BF16 or DType.F32 or DType.F64;

    /// <summary>The name as written in a safetensors header (e.g. <c>"BF16"</c>).</summary>
    public static string HeaderName(this DType dtype) => dtype switch
    {
        DType.BOOL => "BOOL", DType.U8 => "U8", DType.I8 => "I8", DType.I16 => "I16", DType.U16 => "U16",
        DType.F16 => "F16", DType.BF16 => "BF16", DType.I32 => "I32", DType.U32 => "U32", DType.F32 => "F32",
        DType.F64 => "F64", DType.I64 => "I64", DType.U64 => "U64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>Parses a header dtype name. Case-sensitive, as the spec and the Rust crate are.</summary>
    public static bool TryParse(string name, out DType dtype)
    {
        switch (name)
        {
            case "BOOL": dtype = DType.BOOL; return true;
            case "U8": dtype = DType.U8; return true;
            case "I8": dtype = DType.I8; return true;
            case "I16": dtype = DType.I16; return true;
            case "U16": dtype = DType.U16; return true;
            case "F16": dtype = DType.F16; return true;
            case "BF16": dtype = DType.BF16; return true;
            case "I32": dtype = DType.I32; return true;
            case "U32": dtype = DType.U32; return true;
            case "F32": dtype = DType.F32; return true;
            case "F64": dtype = DType.F64; return true;
            case "I64": dtype = DType.I64; return true;
            case "U64": dtype = DType.U64; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Dtype names newer safetensors versions define that NativeTransformer does not support
    /// (8-bit, 6-bit and 4-bit floats, complex). They are reported as unsupported rather than unknown.</summary>
    internal static bool IsKnownUnsupported(string name) =>
        name is "F8_E4M3" or "F8_E5M2" or "F8_E8M0" or "F6_E2M3" or "F6_E3M2" or "F4" or "C64";
}
