using NativeTransformer.Kernels.Int8;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.Compression;

/// <summary>Precision of the encoder Linear weights in a quantized folder.</summary>
public enum LinearPrecision { Int8, Fp16 }

/// <summary>Precision of the embedding tables in a quantized folder.</summary>
public enum EmbeddingPrecision { Int8, Fp16, Fp32 }

/// <summary>Options of <see cref="QuantizeFolder.Run"/>. <paramref name="Embeddings"/> null = the default (see <see cref="QuantizeFolder"/>).</summary>
public sealed record QuantizeOptions(LinearPrecision Linear = LinearPrecision.Int8, EmbeddingPrecision? Embeddings = null);

/// <summary>What <see cref="QuantizeFolder.Run"/> wrote.</summary>
public sealed record QuantizeReport(LinearPrecision Linear, EmbeddingPrecision Embeddings, int Int8Matrices, int Fp16Tensors,
    long InputBytes, long OutputBytes)
{
    public double Ratio => InputBytes == 0 ? 0 : (double)OutputBytes / InputBytes;
}

/// <summary>
/// Writes a quantized copy of a model folder (a pure weights → weights transform).
/// <para><b>Format (int8, <c>nt.quantization = int8-symmetric-per-channel/v1</c>).</b> Every encoder Linear weight
/// (<see cref="PruneSelection"/>: BERT query/key/value/attention output/intermediate/output, DistilBERT q/k/v/out_lin and
/// ffn.lin1/lin2, ALBERT's shared-group layers) keeps its original name and becomes I8 [out, in], with a sibling F32 [out]
/// tensor <c>&lt;name&gt;_scale</c> (e.g. <c>bert.encoder.layer.0.attention.self.query.weight_scale</c>): value = q · scale,
/// symmetric, zero point 0. The values follow exactly <see cref="QuantizedMatrix.Quantize"/>'s rule (scale = max|row|/127,
/// round half to even, clamp ±127), so loading the folder gives the same operators, bit for bit, as quantizing the fp32
/// folder at load (<see cref="LoadOptions.Int8"/>). Biases, LayerNorm, pooler, classifier, masked-LM head and ALBERT's
/// embedding projection stay as they were (F32).</para>
/// <para><b>Embeddings.</b> int8: the word embeddings per row in the same format (<c>…word_embeddings.weight</c> I8 [V, E]
/// + <c>…word_embeddings.weight_scale</c> F32 [V]); the runtime dequantizes the looked-up rows only. Position and token-type
/// tables are small and stay at the base precision. fp16: all three tables F16. fp32: all three as in the input.
/// Default: int8 — except for a masked-LM checkpoint whose decoder is tied to the word embeddings, where the default is
/// fp32 (the decoder reads the whole table; the runtime would have to dequantize it to a full fp32 copy, which it does
/// only when int8 is asked for explicitly). With <see cref="LinearPrecision.Fp16"/> the default is fp16.</para>
/// <para><b>fp16 (<c>nt.quantization = fp16</c>).</b> Every F32 tensor is written F16 (round to nearest even) and config.json
/// gets <c>"torch_dtype": "float16"</c>: Hugging Face loads it with <c>torch_dtype=torch.float16</c>; NativeTransformer widens
/// F16 to fp32 at load.</para>
/// <para><c>__metadata__</c> keeps the input's entries (<c>"format": "pt"</c>) and adds <c>nt.quantization</c> and
/// <c>nt.quantization.embeddings</c> (int8|fp16|fp32). Config (unless fp16), tokenizer and every other file are copied.</para>
/// </summary>
public static class QuantizeFolder
{
    public static QuantizeReport Run(string inputDir, string outputDir, QuantizeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (input, output) = ModelFolderOutput.Check(inputDir, outputDir);
        var config = ModelConfig.Load(Path.Combine(input, "config.json"));
        if (config.Family == ModelFamily.T5)
            throw new NativeTransformerException($"{input}: model_type t5 is not supported by quantize (its Linears have T5's names and no biases); " +
                "load it with --int8 for int8 Linears");
        if (config.Family == ModelFamily.MobileBert)
            throw new NativeTransformerException($"{input}: model_type mobilebert is not supported by quantize (its bottleneck and stacked-FFN Linears are " +
                "not in the selection); load it with --int8 for int8 Linears, or use drop-layers");

        using var source = Checkpoint.Open(input);
        if (source.Tensors.FirstOrDefault(t => t.DType == DType.I8) is { } already)
            throw new NativeTransformerException($"{input}: tensor '{already.Name}' is already I8; quantize the original fp32 folder");
        var keys = CheckpointLayout.For(config, CheckpointLayout.DetectPrefix(config.Family, name => source.TryGetInfo(name, out _)));
        bool tiedDecoder = source.TryGetInfo(keys.MaskedLmTransform + ".weight", out _) && !source.TryGetInfo(keys.MaskedLmDecoder, out _);
        var embeddings = options.Embeddings ?? (options.Linear == LinearPrecision.Fp16 ? EmbeddingPrecision.Fp16
            : tiedDecoder ? EmbeddingPrecision.Fp32 : EmbeddingPrecision.Int8);
        var tables = new[] { keys.WordEmbeddings, keys.PositionEmbeddings, keys.TokenTypeEmbeddings }.OfType<string>().ToHashSet(StringComparer.Ordinal);

        var tensors = new List<TensorToWrite>(source.Tensors.Count + 64);
        int int8 = 0, fp16 = 0;
        foreach (var t in source.Tensors)
        {
            bool linear = PruneSelection.IsEncoderLinearWeight(t.Name);
            bool table = tables.Contains(t.Name);
            if (linear || table)
            {
                if (t.Shape.Length != 2 || !t.DType.IsFloatingPoint())
                    throw new NativeTransformerException($"{input}: tensor '{t.Name}' is {t.DType.HeaderName()} {t.ShapeText}; expected a 2-D float matrix");
            }
            bool toInt8 = (linear && options.Linear == LinearPrecision.Int8) || (t.Name == keys.WordEmbeddings && embeddings == EmbeddingPrecision.Int8);
            bool toFp16 = !toInt8 && t.DType == DType.F32 && (table
                ? embeddings == EmbeddingPrecision.Fp16 || (embeddings == EmbeddingPrecision.Int8 && options.Linear == LinearPrecision.Fp16)
                : options.Linear == LinearPrecision.Fp16);
            bool toFp32 = table && embeddings == EmbeddingPrecision.Fp32 && t.DType != DType.F32;
            if (toInt8)
            {
                tensors.AddRange(Int8(t, source.GetFloat32(t.Name).Span, input));
                int8++;
            }
            else if (toFp16)
            {
                tensors.Add(Fp16(t, source.GetFloat32(t.Name).Span, input));
                fp16++;
            }
            else if (toFp32) tensors.Add(TensorToWrite.FromFloat32(t.Name, t.Shape, source.GetFloat32(t.Name).Span));
            else tensors.Add(TensorToWrite.FromBytes(t.Name, t.DType, t.Shape, source.GetBytes(t.Name)));
        }
        if (options.Linear == LinearPrecision.Int8 && !source.Tensors.Any(t => PruneSelection.IsEncoderLinearWeight(t.Name)))
            throw new NativeTransformerException($"{input}: no encoder Linear weights (BERT, DistilBERT or ALBERT names) to quantize");

        var metadata = ModelFolderOutput.Metadata(source);
        metadata.TryAdd("format", "pt");
        metadata[QuantizationFormat.MetadataKey] = options.Linear == LinearPrecision.Int8 ? QuantizationFormat.Int8V1 : QuantizationFormat.Fp16;
        metadata[QuantizationFormat.EmbeddingsKey] = embeddings.ToString().ToLowerInvariant();

        if (options.Linear == LinearPrecision.Fp16)
        {
            ModelFolderOutput.CopyNonWeightFiles(input, output, "config.json");
            ModelFolderOutput.RewriteConfig(input, output, c => c["torch_dtype"] = "float16");
        }
        else ModelFolderOutput.CopyNonWeightFiles(input, output);
        string written = Path.Combine(output, Checkpoint.SingleFileName);
        SafetensorsWriter.Write(written, tensors, metadata);

        long inputBytes = Directory.EnumerateFiles(input, "*.safetensors").Sum(f => new FileInfo(f).Length);
        return new QuantizeReport(options.Linear, embeddings, int8, fp16, inputBytes, new FileInfo(written).Length);
    }

    /// <summary>I8 [rows, cols] + F32 [rows] scales by <see cref="QuantizedMatrix.Quantize"/>'s per-row rule (Linear weights and
    /// word embeddings alike; a least-squared-error clipped scale for the embeddings was tried and changed SST-2 dev accuracy
    /// by ±1 sentence depending on the search grid, i.e. noise, so one rule it is).</summary>
    private static TensorToWrite[] Int8(TensorInfo t, ReadOnlySpan<float> values, string input)
    {
        int rows = checked((int)t.Shape[0]), cols = checked((int)t.Shape[1]);
        QuantizedMatrix m;
        try { m = QuantizedMatrix.Quantize(values, rows, cols); }
        catch (ArgumentException e) { throw new NativeTransformerException($"{input}: tensor '{t.Name}': {e.Message}"); }
        return [TensorToWrite.FromInt8(t.Name, t.Shape, m.Q), TensorToWrite.FromFloat32(QuantizationFormat.ScaleKey(t.Name), [rows], m.Scales)];
    }

    /// <summary>F16, round to nearest even; a finite value beyond F16's range is an error, not a silent infinity.</summary>
    private static TensorToWrite Fp16(TensorInfo t, ReadOnlySpan<float> values, string input)
    {
        var half = new Half[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            half[i] = (Half)values[i];
            if (Half.IsInfinity(half[i]) && float.IsFinite(values[i]))
                throw new NativeTransformerException($"{input}: tensor '{t.Name}' value {values[i]} at {i} is outside the F16 range (±65504)");
        }
        return TensorToWrite.FromFloat16(t.Name, t.Shape, half);
    }
}
