using NativeTransformer.Models;
using NativeTransformer.Tokenization;

namespace NativeTransformer;

public sealed partial class TransformerModel
{
    /// <summary>Longformer: the default global attention of an input that names none — each row's first token, or none.</summary>
    public bool FirstTokenGlobalByDefault => _encoder.FirstTokenGlobalByDefault;

    /// <summary>
    /// <paramref name="batch"/> with Longformer's global_attention_mask built from the inputs' <see cref="TextInput.GlobalAttention"/>
    /// positions (rows that name none get the default). Without such positions the batch is returned as is, unless
    /// <paramref name="always"/> (encode writes the mask it ran with). Row b of the batch is input index[b] (null: b).
    /// </summary>
    private EncodedBatch WithGlobalAttention(EncodedBatch batch, IReadOnlyList<TextInput> inputs, int[]? index, bool always)
    {
        bool any = false;
        for (int b = 0; b < batch.BatchSize && !any; b++) any = inputs[index?[b] ?? b].GlobalAttention is not null;
        if (Config.Longformer is null)
        {
            if (any) throw new InputException($"global attention positions apply to Longformer models only; this is a {Config.ModelType} model");
            return batch;
        }
        if (!any && !always) return batch;
        int seq = batch.SeqLen;
        var mask = new int[batch.BatchSize * seq];
        for (int b = 0; b < batch.BatchSize; b++)
        {
            int input = index?[b] ?? b, length = batch.Lengths[b];
            if (inputs[input].GlobalAttention is not { } positions)
            {
                if (FirstTokenGlobalByDefault) mask[b * seq] = 1;
                continue;
            }
            foreach (int p in positions)
            {
                if (p < 0 || p >= length)
                    throw new InputException($"input {input}: global attention position {p} is outside its {length} tokens (0..{length - 1}, special tokens included)");
                mask[b * seq + p] = 1;
            }
        }
        return batch with { GlobalAttention = mask };
    }
}
