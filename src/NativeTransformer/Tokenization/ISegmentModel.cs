namespace NativeTransformer.Tokenization;

/// <summary>
/// The family-specific middle of a tokenizer.json pipeline: normalizer, pre-tokenizer and model applied to one stretch
/// of plain text (the text between added/special tokens). A generic tokenizer wraps it with the added-token split,
/// truncation and the post-processor's template, so each family only writes this part.
/// </summary>
internal interface ISegmentModel
{
    /// <summary>Appends the tokens of <c>text[start..end)</c> to <paramref name="output"/>, offsets as UTF-16 indices
    /// into <paramref name="text"/> (the original string, not the normalized one).</summary>
    void Tokenize(string text, int start, int end, TokenList output);
    /// <summary>Ids of the model's vocabulary (added tokens beyond it are counted by the tokenizer).</summary>
    int VocabSize { get; }
    string IdToToken(int id);
    bool TryGetId(string token, out int id);
}
