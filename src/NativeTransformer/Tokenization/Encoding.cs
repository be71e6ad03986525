namespace NativeTransformer.Tokenization;

/// <summary>
/// One tokenized input (a text or a text pair) with special tokens, before padding.
/// Offsets are [start, end) indices into the original .NET string (UTF-16 code units) of the
/// segment the token came from; special tokens have (0, 0). <see cref="SequenceIds"/> says which
/// segment each token belongs to: 0 = text, 1 = text_pair, -1 = special token.
/// </summary>
public sealed record Encoding(int[] Ids, int[] TypeIds, string[] Tokens, (int Start, int End)[] Offsets, int[] SequenceIds, bool Truncated)
{
    public int Length => Ids.Length;
}

/// <summary>
/// A right-padded batch, row-major [BatchSize, SeqLen]: every row padded to the longest row with
/// the pad id, type id 0 and attention mask 0.
/// </summary>
public sealed record EncodedBatch(int BatchSize, int SeqLen, int[] InputIds, int[] TypeIds, int[] AttentionMask, int[] Lengths, Encoding[] Rows)
{
    /// <summary>Longformer's global_attention_mask [BatchSize, SeqLen]: 1 = the token attends to, and is attended by, every
    /// token; 0 = local (sliding window) attention; flags on padding are ignored, as in Hugging Face. null = the model's
    /// default (the first token for a sequence classifier). Other families ignore it.</summary>
    public int[]? GlobalAttention { get; init; }
}
