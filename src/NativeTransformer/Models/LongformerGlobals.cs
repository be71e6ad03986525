using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>Which tokens of a batch get Longformer's global attention: the batch's global_attention_mask, else each row's
/// first token (sequence classifiers, as Hugging Face) or none.</summary>
internal static class LongformerGlobals
{
    /// <summary>Fills row b's ascending global positions (&lt; Lengths[b]) into positions[b·S ..] and their count into
    /// counts[b]; returns whether any row has one. Flags on padding are ignored, as Hugging Face's merged mask drops them.</summary>
    public static bool Collect(EncodedBatch batch, bool firstTokenByDefault, int[] positions, int[] counts)
    {
        int seq = batch.SeqLen;
        bool any = false;
        for (int b = 0; b < batch.BatchSize; b++)
        {
            int n = 0, length = batch.Lengths[b];
            if (batch.GlobalAttention is { } mask)
            {
                for (int t = 0; t < length; t++)
                    if (mask[b * seq + t] != 0) positions[b * seq + n++] = t;
            }
            else if (firstTokenByDefault) positions[b * seq + n++] = 0;
            counts[b] = n;
            any |= n > 0;
        }
        return any;
    }
}
