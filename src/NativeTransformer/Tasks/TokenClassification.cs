using NativeTransformer.Kernels;
using NativeTransformer.Models;

namespace NativeTransformer.Tasks;

/// <summary>
/// The …ForTokenClassification head: one Linear <c>classifier</c> [labels, H] applied to every token's last hidden
/// state (no pooler, no pre-classifier, in every family; bound by WeightBinder). Which checkpoints have it is decided by
/// <c>architectures</c> (<see cref="ModelConfig.IsTokenClassifier"/>): the key alone cannot tell it from BERT's
/// sequence classifier, which is also named <c>classifier</c>.
/// </summary>
internal static class TokenClassification
{
    /// <summary>Logits [B·S, labels] for every position of the last hidden state [B·S, H] (padded positions included:
    /// they are computed like the rest and ignored by callers).</summary>
    public static float[] Logits(ReadOnlySpan<float> hidden, int rows, LinearWeights head, int threads)
    {
        var logits = new float[rows * head.Out];
        Gemm.Compute(hidden[..(rows * head.In)], head.Weight.Span, head.Bias.Span, logits, rows, head.Out, head.In, threads);
        return logits;
    }
}
