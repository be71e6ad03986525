using NativeTransformer.Training;

namespace NativeTransformer.WeightsTools.Training;

/// <summary>
/// An up-front estimate of training memory (float32): the student's parameters ×4 (weights, gradients, AdamW m and v),
/// the teacher's parameters once, and the activations the tape keeps per layer and token (hidden-wide: input, Q, K, V,
/// context, two normalised copies, attention output, FFN output ≈ 9·h; the FFN pre- and post-activation 2·i; the
/// attention probabilities heads·S), doubled for the backward pass's temporaries. Rough by design: it is for refusing
/// a run that cannot fit, not for accounting.
/// </summary>
internal static class TrainingMemory
{
    public static long Estimate(BertTrainingModel student, BertTrainingModel? teacher, int batchSize, int seqLen)
    {
        long Params(BertTrainingModel m) => m.Parameters.All.Sum(p => (long)p.Values.Length);
        long Activations(BertTrainingModel m, int factor) =>
            4L * batchSize * seqLen * m.Config.NumLayers * (9L * m.Config.HiddenSize + 2L * m.Config.IntermediateSize + (long)m.Config.NumHeads * seqLen) * factor;
        long bytes = 4 * 4 * Params(student) + Activations(student, 2);
        if (teacher is not null) bytes += 4 * Params(teacher) + Activations(teacher, 1);
        return bytes;
    }
}
