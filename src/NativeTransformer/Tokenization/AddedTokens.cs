namespace NativeTransformer.Tokenization;

/// <summary>A token matched verbatim in the input before normalization (HF's AddedVocabulary), e.g. [MASK].</summary>
/// <param name="Content">The exact text that is matched.</param>
/// <param name="Id">Its id.</param>
/// <param name="LStrip">Also swallow whitespace on its left.</param>
/// <param name="RStrip">Also swallow whitespace on its right.</param>
/// <param name="SingleWord">Only match where it is not inside a word (no letter, digit or '_' touching it).</param>
/// <param name="Special">A special token (tokenizer.json "special"): skipped when decoding with skip_special_tokens.</param>
public sealed record AddedToken(string Content, int Id, bool LStrip = false, bool RStrip = false, bool SingleWord = false, bool Special = false);

/// <summary>
/// Splits raw text on added/special tokens with leftmost-longest matching, like HF's AddedVocabulary does for
/// non-normalized tokens. Runs in time linear in the text length for a fixed token set.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly AddedToken[] _tokens;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        _tokens = tokens.Where(t => t.Content.Length > 0).ToArray();
    }

    public bool IsEmpty => _tokens.Length == 0;

    /// <summary>One piece of the split: either plain text [Start, End) or an added token occupying [Start, End).</summary>
    public readonly record struct Piece(int Start, int End, AddedToken? Token);

    public List<Piece> Split(string text)
    {
        var pieces = new List<Piece>();
        if (_tokens.Length == 0 || text.Length == 0)
        {
            pieces.Add(new Piece(0, text.Length, null));
            return pieces;
        }
        // next[i] = next occurrence of token i at or after the search position (or int.MaxValue)
        var next = new int[_tokens.Length];
        for (int i = 0; i < _tokens.Length; i++) next[i] = Find(text, _tokens[i].Content, 0);

        int pos = 0;
        int plainStart = 0;
        while (true)
        {
            int best = -1;
            for (int i = 0; i < _tokens.Length; i++)
            {
                if (next[i] < pos) next[i] = Find(text, _tokens[i].Content, pos);
                if (next[i] == int.MaxValue) continue;
                if (best < 0 || next[i] < next[best] || (next[i] == next[best] && _tokens[i].Content.Length > _tokens[best].Content.Length))
                    best = i;
            }
            if (best < 0) break;
            var tok = _tokens[best];
            int ms = next[best], me = ms + tok.Content.Length;
            if (tok.SingleWord && (IsWordChar(text, ms - 1) || IsWordChar(text, me)))
            {
                // HF skips such an occurrence and goes on searching after it.
                pos = me;
                continue;
            }
            if (tok.LStrip) while (ms > plainStart && char.IsWhiteSpace(text[ms - 1])) ms--;
            if (tok.RStrip) while (me < text.Length && char.IsWhiteSpace(text[me])) me++;
            if (ms > plainStart) pieces.Add(new Piece(plainStart, ms, null));
            pieces.Add(new Piece(ms, me, tok));
            pos = plainStart = me;
        }
        if (plainStart < text.Length || pieces.Count == 0) pieces.Add(new Piece(plainStart, text.Length, null));
        return pieces;
    }

    private static bool IsWordChar(string text, int i) =>
        i >= 0 && i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_' || char.IsSurrogate(text[i]));

    private static int Find(string text, string token, int from)
    {
        if (from >= text.Length) return int.MaxValue;
        int i = text.IndexOf(token, from, StringComparison.Ordinal);
        return i < 0 ? int.MaxValue : i;
    }
}
