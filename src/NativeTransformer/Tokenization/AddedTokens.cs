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
    // The tokens by first character, longest first, and the set of first characters: one vectorized scan finds every
    // place a token can start (T5 has 103 added tokens, all starting with '<', which real text rarely holds).
    private readonly Dictionary<char, AddedToken[]> _byFirst;
    private readonly System.Buffers.SearchValues<char> _firsts;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        _tokens = tokens.Where(t => t.Content.Length > 0).ToArray();
        _byFirst = _tokens.GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _firsts = System.Buffers.SearchValues.Create(_byFirst.Keys.ToArray());
    }

    public bool IsEmpty => _tokens.Length == 0;

    /// <summary>False when no token can occur in <paramref name="text"/> (none of their first characters is there):
    /// <see cref="Split"/> would return the whole text as one plain piece.</summary>
    public bool MayMatch(string text) => _tokens.Length != 0 && text.AsSpan().IndexOfAny(_firsts) >= 0;

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
        int pos = 0;
        int plainStart = 0;
        while (pos < text.Length)
        {
            // The leftmost position where a token occurs, and the longest token there.
            int at = text.AsSpan(pos).IndexOfAny(_firsts);
            if (at < 0) break;
            int ms = pos + at;
            AddedToken? tok = null;
            foreach (var t in _byFirst[text[ms]])
                if (text.AsSpan(ms).StartsWith(t.Content, StringComparison.Ordinal)) { tok = t; break; }
            if (tok == null) { pos = ms + 1; continue; }
            int me = ms + tok.Content.Length;
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
}
