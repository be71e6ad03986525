namespace NativeTransformer.Weights;

/// <summary>What exactly is wrong with a safetensors file. One value per distinct failure.</summary>
public enum SafetensorsError
{
    Io,
    TooSmall,
    HeaderTooLarge,
    HeaderOutOfBounds,
    HeaderNotUtf8,
    HeaderNotJson,
    InvalidHeader,
    UnknownDType,
    InvalidShape,
    ShapeByteMismatch,
    OffsetsOutOfBounds,
    OffsetsNotContiguous,
    DuplicateTensor,
    InvalidMetadata,
    InvalidIndex,
}

/// <summary>A malformed or hostile safetensors file (or shard index). Names the file and, where known, the tensor.</summary>
public sealed class SafetensorsException : NativeTransformerException
{
    public SafetensorsError Error { get; }
    public string? FilePath { get; }
    public string? TensorName { get; }

    public SafetensorsException(SafetensorsError error, string? filePath, string? tensorName, string message)
        : base($"{filePath ?? "safetensors"}: {(tensorName is null ? "" : $"tensor '{tensorName}': ")}{message} ({error})")
    {
        Error = error; FilePath = filePath; TensorName = tensorName;
    }
}
