using System.Text.Json;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Models;

/// <summary>One ../shared/reference/&lt;model&gt;/public.* pair: the inputs (texts or pairs), max_length, and the PyTorch outputs.</summary>
internal sealed class ReferenceSet : IDisposable
{
    public required string ModelName { get; init; }
    public required TextInput[] Inputs { get; init; }
    public required int MaxLength { get; init; }
    public required SafetensorsFile Outputs { get; init; }

    /// <summary>Models that have both a folder in shared/models and reference outputs, with a tokenizer this runtime reads.</summary>
    public static readonly string[] ModelNames = ["bert-tiny-sst2", "bert-mini-sst2", "distilbert-mini-sst2", "albert-mini-sst2", "bert-tiny-mlm",
        "roberta-mini-sst2", "xlmr-mini-sst2", "albert-spm-mini-sst2", "mobilebert-mini-sst2",
        "t5-encoder-mini-sst2", "longformer-mini"];

    /// <summary>Every model whose encoder runs on the reference's own token ids (<see cref="Batch"/>): the above plus the
    /// RoBERTa / XLM-R / SentencePiece-ALBERT folders, whatever their tokenizer.</summary>
    public static readonly string[] EncoderModelNames = ModelNames;

    /// <summary>The reference's input_ids / token_type_ids / attention_mask as a right-padded batch (lengths = mask sums).</summary>
    public EncodedBatch Batch()
    {
        var ids = Long("input_ids");
        var shape = Outputs.GetInfo("input_ids").Shape;
        int b = (int)shape[0], seq = (int)shape[1];
        var mask = Long("attention_mask");
        var lengths = new int[b];
        for (int r = 0; r < b; r++)
            for (int t = 0; t < seq; t++) lengths[r] += (int)mask[r * seq + t];
        int[] Ints(long[] v) => Array.ConvertAll(v, x => checked((int)x));
        return new EncodedBatch(b, seq, Ints(ids), Ints(Long("token_type_ids")), Ints(mask), lengths, []);
    }

    public static ReferenceSet Load(string model) => LoadFrom(TestPaths.Reference(model), model);

    /// <summary>The public.json / public.safetensors pair of any folder with that layout (e.g. shared/realmodels/reference/&lt;model&gt;).</summary>
    public static ReferenceSet LoadFrom(string dir, string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "public.json")));
        var root = doc.RootElement;
        var inputs = root.GetProperty("items").EnumerateArray().Select(item =>
            item.TryGetProperty("pair", out var pair) && pair.ValueKind == JsonValueKind.Array
                ? new TextInput(pair[0].GetString()!, pair[1].GetString())
                : new TextInput(item.GetProperty("text").GetString()!)).ToArray();
        int maxLength = root.GetProperty("tokenizer").GetProperty("max_length").GetInt32();
        return new ReferenceSet
        {
            ModelName = model, Inputs = inputs, MaxLength = maxLength,
            Outputs = SafetensorsFile.Open(Path.Combine(dir, "public.safetensors")),
        };
    }

    public float[] Float(string name) => Outputs.GetFloat32(name).ToArray();
    public long[] Long(string name) => Outputs.GetInt64(name);
    public bool Has(string name) => Outputs.TryGetInfo(name, out _);

    public void Dispose() => Outputs.Dispose();
}

/// <summary>Max |a − b| over rows/positions whose attention mask is 1 (padded positions are implementation-defined).</summary>
internal static class Diff
{
    public static float MaxAbsMasked(float[] expected, float[] actual, long[] mask, int width)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        for (int t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0) continue;
            for (int i = 0; i < width; i++) worst = Math.Max(worst, Math.Abs(expected[t * width + i] - actual[t * width + i]));
        }
        return worst;
    }

    public static float MaxAbs(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        return worst;
    }
}
