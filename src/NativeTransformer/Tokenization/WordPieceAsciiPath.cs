using System.Buffers;
using System.Text;

namespace NativeTransformer.Tokenization;

/// <summary>
/// The BERT pipeline (BertNormalizer, BertPreTokenizer, WordPiece) for a stretch of pure ASCII text with nothing
/// clean_text would drop: most English text. For such text every normalizer step is the identity except lowercasing
/// A-Z (no CJK, no decomposition, no Mn, no dropped control character), so each normalized char is the original char
/// at the same index and offsets need no alignment arrays. Whitespace and punctuation come from a 128-entry class
/// table built from the same predicates as the general path, and words are looked up as spans (no string per word).
/// Anything else returns false and the general path (<see cref="BertNormalizer"/>, <see cref="WordPieceModel"/>) runs.
/// </summary>
internal sealed class WordPieceAsciiPath
{
    private const byte Word = 0, Space = 1, Punct = 2;

    private readonly byte[] _class = new byte[128];
    private readonly SearchValues<char> _unsafe;      // chars this path cannot take (non-ASCII, dropped controls)
    private readonly bool _lowercase;
    private readonly WordPieceModel _model;

    [ThreadStatic] private static char[]? t_lowered;

    public WordPieceAsciiPath(WordPieceModel model, bool cleanText, bool lowercase)
    {
        _model = model;
        _lowercase = lowercase;
        var safe = new List<char>();
        for (int c = 0; c < 128; c++)
        {
            // The general path: clean_text drops NUL and category-other (Cc/Cf/Co) except \t \n \r, and turns
            // whitespace into ' '; the pre-tokenizer splits on whitespace and isolates punctuation.
            bool dropped = cleanText && (c == 0 || (c is not ('\t' or '\n' or '\r') && UnicodeTables.IsOther(c)));
            if (dropped) continue;
            safe.Add((char)c);
            _class[c] = UnicodeTables.IsWhiteSpace(c) ? Space : BertPreTokenizer.IsPunctuation(c) ? Punct : Word;
        }
        _unsafe = SearchValues.Create(safe.ToArray());
    }

    /// <summary>Tokenizes text[start..end) into <paramref name="output"/> when the stretch qualifies; false (and
    /// nothing written) otherwise.</summary>
    public bool TryTokenize(string text, int start, int end, TokenList output)
    {
        var src = text.AsSpan(start, end - start);
        if (src.ContainsAnyExcept(_unsafe)) return false;
        var buf = t_lowered;
        if (buf == null || buf.Length < src.Length) t_lowered = buf = new char[Math.Max(256, src.Length)];
        var lowered = buf.AsSpan(0, src.Length);
        if (_lowercase) Ascii.ToLower(src, lowered, out _);
        else src.CopyTo(lowered);

        var cls = _class;
        int wordStart = -1;
        for (int i = 0; i < lowered.Length; i++)
        {
            byte k = cls[lowered[i]];
            if (k == Word)
            {
                if (wordStart < 0) wordStart = i;
                continue;
            }
            if (wordStart >= 0) { _model.TokenizeSpan(lowered[wordStart..i], start + wordStart, output); wordStart = -1; }
            if (k == Punct) _model.TokenizeSpan(lowered.Slice(i, 1), start + i, output);
        }
        if (wordStart >= 0) _model.TokenizeSpan(lowered[wordStart..], start + wordStart, output);
        return true;
    }
}
