namespace NativeTransformer.Compression;

/// <summary>
/// Names of the int8 checkpoint format that <see cref="QuantizeFolder"/> writes and the loader reads:
/// an I8 tensor keeps its original name and gets a sibling F32 tensor <c>&lt;name&gt;_scale</c> with one scale per row
/// (value = q · scale, symmetric, zero point 0). The safetensors <c>__metadata__</c> marks the format and version.
/// </summary>
public static class QuantizationFormat
{
    /// <summary>__metadata__ key of the format marker.</summary>
    public const string MetadataKey = "nt.quantization";
    /// <summary>The only version this runtime reads: per-output-channel symmetric int8 of the encoder Linear weights.</summary>
    public const string Int8V1 = "int8-symmetric-per-channel/v1";
    /// <summary>"fp16" marks a folder whose float tensors were written as F16.</summary>
    public const string Fp16 = "fp16";
    /// <summary>__metadata__ key recording the precision of the word embeddings: int8, fp16 or fp32.</summary>
    public const string EmbeddingsKey = "nt.quantization.embeddings";
    public const string ScaleSuffix = "_scale";

    /// <summary>The scale tensor's name for an I8 tensor: <c>…query.weight</c> → <c>…query.weight_scale</c>.</summary>
    public static string ScaleKey(string tensorName) => tensorName + ScaleSuffix;
}
