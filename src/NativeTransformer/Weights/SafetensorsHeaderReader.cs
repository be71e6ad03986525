using System.Buffers.Binary;

namespace NativeTransformer.Weights;

/// <summary>
/// Reads only the headers of a folder's safetensors files (8 + N bytes each, N capped at
/// <see cref="SafetensorsFile.MaxHeaderBytes"/>): names, dtypes, shapes and offsets, validated as
/// <see cref="SafetensorsFile.Open"/> does except against the file's length. Nothing is mapped and no weight byte is
/// read, so it is cheap and safe on hostile or truncated files (the memory estimate runs before any loading).
/// </summary>
internal static class SafetensorsHeaderReader
{
    /// <summary>One file's header: its tensors (absolute offsets), its length on disk and the length the header declares
    /// (8 + header + data section), which is what a load maps when the file is whole.</summary>
    public sealed record FileHeader(string Path, long FileLength, long DeclaredLength, IReadOnlyList<TensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>The headers of <c>model.safetensors</c>, or of every shard named by the index (same precedence as
    /// <see cref="Checkpoint.Open"/>). Empty when the folder has neither.</summary>
    public static IReadOnlyList<FileHeader> ReadFolder(string directory)
    {
        string dir = System.IO.Path.GetFullPath(directory);
        string single = System.IO.Path.Combine(dir, Checkpoint.SingleFileName);
        if (File.Exists(single)) return [Read(single)];
        string indexPath = System.IO.Path.Combine(dir, Checkpoint.IndexFileName);
        if (!File.Exists(indexPath)) return [];
        var index = ShardIndex.Load(indexPath);
        var headers = new List<FileHeader>();
        foreach (string shard in index.ShardFiles)
        {
            string path = System.IO.Path.Combine(dir, shard);
            if (!File.Exists(path)) throw ShardIndex.Invalid(indexPath, null, $"shard file \"{shard}\" named in weight_map does not exist in {dir}");
            headers.Add(Read(path));
        }
        return headers;
    }

    public static FileHeader Read(string path)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        try
        {
            using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            long length = stream.Length;
            long n = SafetensorsFile.ReadHeaderLength(stream, length, fullPath);
            var header = new byte[n];
            stream.ReadExactly(header);
            // dataSize -1: the data section is not looked at, so a truncated or garbage data section is not an error here.
            var parsed = SafetensorsHeaderParser.Parse(header, 8 + (long)n, -1, fullPath);
            long declared = parsed.Tensors.Count == 0 ? 8 + (long)n : parsed.Tensors.Max(t => t.FileOffset + t.ByteLength);
            return new FileHeader(fullPath, length, declared, parsed.Tensors, parsed.Metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SafetensorsException(SafetensorsError.Io, fullPath, null, $"cannot read the header: {e.Message}");
        }
    }
}
