using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>
/// Deterministic mutation fuzzing of a valid file: flipped, replaced and truncated bytes must only ever produce
/// <see cref="SafetensorsException"/> (at open) or <see cref="WeightException"/> (at access) — never another exception.
/// </summary>
public sealed class MutationFuzzTests
{
    [Fact]
    public void MutatedFilesFailOnlyWithLibraryExceptions()
    {
        var original = File.ReadAllBytes(Path.Combine(TestPaths.Reference("safetensors_dtypes"), "dtypes.safetensors"));
        var random = new Random(20240607);
        byte[] interesting = "{}[]\",:-0123456789eE. \\u"u8.ToArray();
        using var dir = new TempDir();
        int opened = 0;

        for (int i = 0; i < 400; i++)
        {
            var bytes = (byte[])original.Clone();
            int mutations = 1 + random.Next(3);
            for (int m = 0; m < mutations; m++)
            {
                int at = random.Next(random.Next(4) == 0 ? bytes.Length : Math.Min(bytes.Length, 8 + 880));
                bytes[at] = random.Next(3) switch
                {
                    0 => (byte)random.Next(256),
                    1 => interesting[random.Next(interesting.Length)],
                    _ => (byte)(bytes[at] ^ (1 << random.Next(8))),
                };
            }
            if (random.Next(8) == 0) Array.Resize(ref bytes, random.Next(bytes.Length));

            string path = dir.File($"fuzz{i}.safetensors");
            File.WriteAllBytes(path, bytes);
            try
            {
                using var file = SafetensorsFile.Open(path);
                opened++;
                foreach (var t in file.Tensors)
                {
                    try
                    {
                        _ = file.GetBytes(t.Name).Length;
                        if (t.DType.IsFloatingPoint()) _ = file.GetFloat32(t.Name).Span.Length;
                        else _ = file.GetInt64(t.Name).Length;
                    }
                    catch (WeightException) { }
                }
            }
            catch (SafetensorsException e)
            {
                Assert.Contains(path, e.Message);
            }
        }
        Assert.InRange(opened, 1, 399); // some mutations only touch data bytes or padding
    }
}
