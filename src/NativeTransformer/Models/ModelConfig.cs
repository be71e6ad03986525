namespace NativeTransformer.Models;

/// <summary>Stub; replaced by the real config record.</summary>
public sealed record ModelConfig
{
    public string ModelType { get; init; } = "";
    public int NumLayers { get; init; }
    public int HiddenSize { get; init; }
    public IReadOnlyDictionary<int, string> Id2Label { get; init; } = new Dictionary<int, string>();
}
