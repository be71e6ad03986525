namespace NativeTransformer.Tokenization;

/// <summary>
/// Hugging Face's <c>BertPreTokenizer</c>: split on whitespace (Rust <c>char::is_whitespace</c>, removed), then
/// isolate every punctuation character (ASCII punctuation or Unicode category P*) as its own word.
/// </summary>
internal static class BertPreTokenizer
{
    /// <summary>HF's is_bert_punc: <c>char::is_ascii_punctuation</c> or a Unicode punctuation category.</summary>
    public static bool IsPunctuation(int cp) =>
        cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126)
        || (cp >= 0x80 && UnicodeTables.IsPunctuationCategory(cp));

    /// <summary>Calls <paramref name="onWord"/> with each word as a [from, to) range of code point indices.</summary>
    public static void Split<TState>(NormalizedText text, ref TState state, WordCallback<TState> onWord)
    {
        int wordStart = -1;
        for (int i = 0; i < text.Count; i++)
        {
            int cp = text.Chars[i];
            if (UnicodeTables.IsWhiteSpace(cp))
            {
                if (wordStart >= 0) { onWord(ref state, wordStart, i); wordStart = -1; }
            }
            else if (IsPunctuation(cp))
            {
                if (wordStart >= 0) { onWord(ref state, wordStart, i); wordStart = -1; }
                onWord(ref state, i, i + 1);
            }
            else if (wordStart < 0)
            {
                wordStart = i;
            }
        }
        if (wordStart >= 0) onWord(ref state, wordStart, text.Count);
    }

    public delegate void WordCallback<TState>(ref TState state, int from, int to);
}
