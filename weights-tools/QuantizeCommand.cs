using System.Diagnostics;
using System.Globalization;
using NativeTransformer.Compression;

namespace NativeTransformer.WeightsTools;

/// <summary><c>weights-tools quantize</c>: an int8 (or fp16) copy of a model folder that the runtime loads as is.</summary>
public static class QuantizeCommand
{
    public const string HelpLine =
        "  quantize DIR --output DIR2 [--int8 | --fp16] [--embeddings int8|fp16|fp32]\n" +
        "                --int8 (default): encoder Linear weights as I8 [out, in] + F32 '<name>_scale' [out] (per output\n" +
        "                channel, symmetric), loaded straight into the int8 kernels; word embeddings int8 per row unless a\n" +
        "                tied masked-LM head reads them (then fp32). --fp16: every F32 tensor as F16. --embeddings overrides.\n";

    public const string Usage = "usage: weights-tools quantize DIR --output DIR2 [--int8 | --fp16] [--embeddings int8|fp16|fp32]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // --int8 / --fp16 are flags; ToolArgs parses the rest (positional DIR and --name value options).
        bool int8 = args.Contains("--int8"), fp16 = args.Contains("--fp16");
        if (args.Count(a => a is "--int8" or "--fp16") > 1) return Fail(stderr, "quantize: give one of --int8 and --fp16, once");
        var rest = args.Where(a => a is not ("--int8" or "--fp16")).ToArray();
        if (ToolArgs.TryParse("quantize", rest, allowPositional: true, ["--output", "--embeddings"], out var parsed) is { } error)
            return Fail(stderr, error);
        string? input = parsed.Positional, output = parsed.Get("--output"), embeddingsText = parsed.Get("--embeddings");
        if (input is null) return Fail(stderr, "quantize: the model folder DIR is required");
        if (output is null) return Fail(stderr, "quantize: --output is required");
        EmbeddingPrecision? embeddings = embeddingsText switch
        {
            null => null,
            "int8" => EmbeddingPrecision.Int8,
            "fp16" => EmbeddingPrecision.Fp16,
            "fp32" => EmbeddingPrecision.Fp32,
            _ => (EmbeddingPrecision)(-1),
        };
        if (embeddings is { } chosen && (int)chosen < 0) return Fail(stderr, $"quantize: unknown embeddings precision '{embeddingsText}' (known: int8, fp16, fp32)");

        var sw = Stopwatch.StartNew();
        var r = QuantizeFolder.Run(input, output, new QuantizeOptions(fp16 && !int8 ? LinearPrecision.Fp16 : LinearPrecision.Int8, embeddings));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"quantize: {r.Linear.ToString().ToLowerInvariant()} (embeddings {r.Embeddings.ToString().ToLowerInvariant()}): " +
            $"{r.Int8Matrices} int8 matrices, {r.Fp16Tensors} fp16 tensors; weights {r.InputBytes:N0} -> {r.OutputBytes:N0} bytes " +
            $"({r.Ratio:F3} x) written to {Path.GetFullPath(output)} in {sw.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message + " (" + Usage + ")");
        return 2;
    }
}
