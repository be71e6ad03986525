namespace NativeTransformer.Tokenization;

/// <summary>
/// Hugging Face's WordPiece model (tokenizers/src/models/wordpiece): greedy longest-match-first, continuation
/// pieces prefixed with <c>##</c>. A word of more than <c>max_input_chars_per_word</c> code points, or one with
/// a position no vocabulary piece matches, becomes a single unknown token spanning the whole word.
/// </summary>
internal sealed class WordPieceModel
{
    private readonly Vocabulary _vocab;
    private readonly string _prefix;
    private readonly int _maxChars;
    private readonly int _unkId;
    private readonly string _unkToken;

    public WordPieceModel(Vocabulary vocab, string unkToken, int unkId, string continuingSubwordPrefix, int maxInputCharsPerWord)
    {
        _vocab = vocab;
        _unkToken = unkToken;
        _unkId = unkId;
        _prefix = continuingSubwordPrefix;
        _maxChars = maxInputCharsPerWord;
        // Continuation pieces keyed without their prefix, so a span of the word is looked up without copying it
        // behind "##". Built from the token -> id map, so a duplicated token keeps the id of its last line.
        var continuations = new Dictionary<string, int>(StringComparer.Ordinal);
        var starts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in vocab.Entries)
        {
            starts[token] = id;
            if (token.StartsWith(continuingSubwordPrefix, StringComparison.Ordinal))
                continuations[token[continuingSubwordPrefix.Length..]] = id;
        }
        _starts = new PrefixHashTable(starts);
        _continuations = new PrefixHashTable(continuations);
    }

    private readonly PrefixHashTable _starts, _continuations;

    /// <summary>
    /// Tokenizes one word given as UTF-16 units with no surrogates whose unit i is the original text's unit
    /// <paramref name="offset"/> + i (the ASCII path); same result as <see cref="Tokenize"/> on that word.
    /// With <paramref name="prehashed"/>, buffers.Hashes[k] already holds the hash of word[..k] for every k.
    /// </summary>
    public void TokenizeSpan(ReadOnlySpan<char> word, int offset, TokenList output, WordPieceAsciiPath.Buffers buffers, bool prehashed)
    {
        int units = word.Length;
        if (units > _maxChars)
        {
            output.Add(_unkId, _unkToken, offset, offset + units);
            return;
        }
        int mark = output.Count;
        int start = 0;
        // units <= max_input_chars_per_word here, so the scratch is bounded by the setting (100 by default).
        var hashes = buffers.Hashes;
        if (hashes.Length <= units) buffers.Hashes = hashes = new uint[units + 1];
        while (start < units)
        {
            var table = start == 0 ? _starts : _continuations;
            int end = Math.Min(units, start + table.MaxKeyLength);
            // hashes[k] = hash of word[start..start+k]: every candidate's hash from one pass.
            if (start != 0 || !prehashed)
            {
                uint h = 0;
                for (int k = start; k < end; k++) hashes[k - start + 1] = h = PrefixHashTable.Extend(h, word[k]);
            }
            int foundId = -1;
            for (; end > start; end--)
                if (table.TryGet(word[start..end], hashes[end - start], out foundId)) break;
            if (end == start)
            {
                output.Truncate(mark);
                output.Add(_unkId, _unkToken, offset, offset + units);
                return;
            }
            output.Add(foundId, _vocab.TokenOf(foundId), offset + start, offset + end);
            start = end;
        }
    }

    /// <summary>Scratch buffers reused across words of one call.</summary>
    public sealed class Scratch
    {
        public char[] Word = new char[64];       // the word, UTF-16
        public int[] UnitToChar = new int[64];   // UTF-16 unit -> code point index in the normalized text
        public char[] Piece = new char[80];      // prefix + candidate piece
    }

    /// <summary>Tokenizes the word text.Chars[from..to) and appends its pieces to <paramref name="output"/>.</summary>
    public void Tokenize(NormalizedText text, int from, int to, TokenList output, Scratch scratch)
    {
        int nChars = to - from;
        if (nChars > _maxChars)
        {
            output.Add(_unkId, _unkToken, text.Start[from], End(text, from, to));
            return;
        }

        // Build the UTF-16 form of the word.
        if (scratch.Word.Length < nChars * 2) { scratch.Word = new char[nChars * 2]; scratch.UnitToChar = new int[nChars * 2]; }
        int units = 0;
        for (int i = from; i < to; i++)
        {
            int cp = text.Chars[i];
            if (cp < 0x10000) { scratch.Word[units] = (char)cp; scratch.UnitToChar[units++] = i; }
            else
            {
                cp -= 0x10000;
                scratch.Word[units] = (char)(0xD800 + (cp >> 10)); scratch.UnitToChar[units++] = i;
                scratch.Word[units] = (char)(0xDC00 + (cp & 0x3FF)); scratch.UnitToChar[units++] = i;
            }
        }
        if (scratch.Piece.Length < units + _prefix.Length) scratch.Piece = new char[units + _prefix.Length + 16];
        _prefix.CopyTo(scratch.Piece);
        var word = scratch.Word.AsSpan(0, units);

        int mark = output.Count;
        int start = 0;
        while (start < units)
        {
            // Longest match first, but never try a candidate longer than the longest vocabulary token: same result,
            // and a 100-character word costs O(n·L) lookups instead of O(n²) (each hashing up to n characters).
            int end = Math.Min(units, start + Math.Max(1, _vocab.MaxTokenLength - (start == 0 ? 0 : _prefix.Length)));
            if (end < units && char.IsHighSurrogate(word[end - 1]) && char.IsLowSurrogate(word[end])) end++; // never split a pair
            int foundId = -1;
            ReadOnlySpan<char> cand = default;
            while (start < end)
            {
                if (start == 0) cand = word[..end];
                else
                {
                    word[start..end].CopyTo(scratch.Piece.AsSpan(_prefix.Length));
                    cand = scratch.Piece.AsSpan(0, _prefix.Length + end - start);
                }
                if (_vocab.TryGetId(cand, out foundId)) break;
                foundId = -1;
                end -= end - 1 > start && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
            }
            if (foundId < 0)
            {
                output.Truncate(mark);
                output.Add(_unkId, _unkToken, text.Start[from], End(text, from, to));
                return;
            }
            int firstChar = scratch.UnitToChar[start], lastChar = scratch.UnitToChar[end - 1];
            output.Add(foundId, _vocab.IdToToken(foundId), text.Start[firstChar], text.End[lastChar]);
            start = end;
        }
    }

    private static int End(NormalizedText text, int from, int to) => text.End[to - 1];
}
