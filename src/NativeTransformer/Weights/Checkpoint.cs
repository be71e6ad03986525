namespace NativeTransformer.Weights;

/// <summary>Opens the weights of a Hugging Face model folder. (Contract stub.)</summary>
public static class Checkpoint
{
    /// <summary>
    /// <c>model.safetensors</c>, or the shards named by <c>model.safetensors.index.json</c>, in <paramref name="directory"/>.
    /// Throws <see cref="SafetensorsException"/> (bad files, index pointing outside the folder) or
    /// <see cref="NativeTransformerException"/> (no weights file in the folder).
    /// </summary>
    public static ITensorSource Open(string directory) => throw new NotImplementedException();
}
