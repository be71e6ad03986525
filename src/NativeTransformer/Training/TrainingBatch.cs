using NativeTransformer.Tokenization;

namespace NativeTransformer.Training;

/// <summary>A right-padded batch: ids, token types and attention mask [Batch, Seq] row-major, optional labels [Batch].</summary>
public sealed record TrainingBatch(int Batch, int Seq, int[] InputIds, int[] TypeIds, int[] AttentionMask, int[]? Labels)
{
    public static TrainingBatch From(EncodedBatch encoded, int[]? labels) =>
        new(encoded.BatchSize, encoded.SeqLen, encoded.InputIds, encoded.TypeIds, encoded.AttentionMask, labels);
}
