using NativeTransformer.Kernels;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.Tasks;

/// <summary>
/// The …ForTokenClassification head: one Linear <c>classifier</c> [labels, H] applied to every token's last hidden
/// state (no pooler, no pre-classifier, in every family). Which checkpoints have it is decided by
/// <c>architectures</c> (<see cref="ModelConfig.IsTokenClassifier"/>): the key alone cannot tell it from BERT's
/// sequence classifier, which is also named <c>classifier</c>.
/// </summary>
internal static class TokenClassification
{
    /// <summary>Binds <paramref name="key"/> as a [labels, H] token classifier, checking labels against id2label.</summary>
    public static LinearWeights BindHead(string key, int h, ModelConfig config, Func<string, TensorInfo> info,
        Func<string, int, int, LinearWeights> linear)
    {
        var weight = info(key + ".weight"); // a missing head is the loader's "missing from the checkpoint" error
        int labels = weight.Shape.Length == 2 && weight.Shape[0] is > 0 and <= 100_000 ? (int)weight.Shape[0]
            : throw new WeightException(weight.Name, $"{weight.Name}: shape {weight.ShapeText} is not [labels, {h}] ({config.Architecture})");
        if (config.Id2Label.Count > 0 && config.Id2Label.Count != labels)
            throw new WeightException(weight.Name, $"{weight.Name}: {labels} labels but config.json id2label names {config.Id2Label.Count}");
        return linear(key, labels, h);
    }

    /// <summary>Logits [B·S, labels] for every position of the last hidden state [B·S, H] (padded positions included:
    /// they are computed like the rest and ignored by callers).</summary>
    public static float[] Logits(ReadOnlySpan<float> hidden, int rows, LinearWeights head, int threads)
    {
        var logits = new float[rows * head.Out];
        Gemm.Compute(hidden[..(rows * head.In)], head.Weight.Span, head.Bias.Span, logits, rows, head.Out, head.In, threads);
        return logits;
    }
}
