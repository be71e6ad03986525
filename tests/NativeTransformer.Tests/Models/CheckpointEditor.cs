using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Models;

/// <summary>Rewrites a folder's model.safetensors with some tensors dropped, replaced or added (for hostile-checkpoint tests).</summary>
internal static class CheckpointEditor
{
    public static void Rewrite(string folder, Func<TensorInfo, ReadOnlyMemory<byte>, TensorToWrite?> edit, params TensorToWrite[] extra)
    {
        string path = Path.Combine(folder, "model.safetensors");
        var tensors = new List<TensorToWrite>();
        using (var file = SafetensorsFile.Open(path))
            foreach (var info in file.Tensors)
                if (edit(info, file.GetBytes(info.Name).ToArray()) is { } t) tensors.Add(t);
        tensors.AddRange(extra);
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    public static TensorToWrite Keep(TensorInfo info, ReadOnlyMemory<byte> data) => new(info.Name, info.DType, info.Shape, data);
}
