using System.Buffers;
using System.Text;

namespace NativeTransformer.Tokenization;

/// <summary>
/// The BERT pipeline (BertNormalizer, BertPreTokenizer, WordPiece) for ASCII text with nothing clean_text would
/// drop: most English text. For such text every normalizer step is the identity except lowercasing A-Z (no CJK, no
/// decomposition, no Mn, no dropped control character), so each normalized char is the original char at the same
/// index and offsets need no alignment arrays. Whitespace and punctuation come from a 128-entry class table built from
/// the same predicates as the general path, and words are looked up as spans (no string per word).
/// </summary>
/// <remarks>
/// Text holding other characters is cut at ASCII whitespace and only the chunks holding them go to the general path
/// (<see cref="BertNormalizer"/>, <see cref="BertPreTokenizer"/>, <see cref="WordPieceModel.Tokenize"/>). That is exact:
/// every normalizer step works char by char except the canonical reordering of combining marks, whose runs never
/// cross a starter such as a space, and the pre-tokenizer ends a word at every whitespace whatever surrounds it.
/// </remarks>
internal sealed class WordPieceAsciiPath
{
    private const byte Word = 0, Space = 1, Punct = 2;

    /// <summary>Per-thread buffers, reused from call to call.</summary>
    public sealed class Buffers
    {
        public char[] Lowered = new char[256];
        public uint[] Hashes = new uint[128];
    }

    /// <summary>The general path for text[start..end), appending to output.</summary>
    public delegate void GeneralPath(string text, int start, int end, TokenList output);

    private readonly byte[] _class = new byte[128];
    private readonly SearchValues<char> _safe;        // chars this path takes: ASCII except what clean_text drops
    private readonly SearchValues<char> _spaces;      // ASCII whitespace
    private readonly bool _lowercase;
    private readonly WordPieceModel _model;
    private readonly GeneralPath _general;

    public WordPieceAsciiPath(WordPieceModel model, bool cleanText, bool lowercase, GeneralPath general)
    {
        _model = model;
        _lowercase = lowercase;
        _general = general;
        var safe = new List<char>();
        var spaces = new List<char>();
        for (int c = 0; c < 128; c++)
        {
            // As the general path: clean_text drops NUL and category-other (Cc/Cf/Co) except \t \n \r, and turns
            // whitespace into ' '; the pre-tokenizer splits on whitespace and isolates punctuation.
            bool dropped = cleanText && (c == 0 || (c is not ('\t' or '\n' or '\r') && UnicodeTables.IsOther(c)));
            if (dropped) continue;
            safe.Add((char)c);
            _class[c] = UnicodeTables.IsWhiteSpace(c) ? Space : BertPreTokenizer.IsPunctuation(c) ? Punct : Word;
            if (_class[c] == Space) spaces.Add((char)c);
        }
        _safe = SearchValues.Create(safe.ToArray());
        _spaces = SearchValues.Create(spaces.ToArray());
    }

    /// <summary>Tokenizes text[start..end) (no added token inside) into <paramref name="output"/>.</summary>
    public void Tokenize(string text, int start, int end, TokenList output, Buffers buffers)
    {
        var src = text.AsSpan(start, end - start);
        if (!src.ContainsAnyExcept(_safe))
        {
            TokenizeSafe(src, start, output, buffers);
            return;
        }
        int i = 0;
        while (i < src.Length)
        {
            int skip = src[i..].IndexOfAnyExcept(_spaces);
            if (skip < 0) break;
            i += skip;
            int len = src[i..].IndexOfAny(_spaces);
            if (len < 0) len = src.Length - i;
            var chunk = src.Slice(i, len);
            if (chunk.ContainsAnyExcept(_safe)) _general(text, start + i, start + i + len, output);
            else TokenizeSafe(chunk, start + i, output, buffers);
            i += len;
        }
    }

    /// <summary>ASCII text with no dropped char; <paramref name="offset"/> is the index of src[0] in the original string.</summary>
    private void TokenizeSafe(ReadOnlySpan<char> src, int offset, TokenList output, Buffers buffers)
    {
        var buf = buffers.Lowered;
        if (buf.Length < src.Length) buffers.Lowered = buf = new char[src.Length];
        var lowered = buf.AsSpan(0, src.Length);
        if (_lowercase) Ascii.ToLower(src, lowered, out _);
        else src.CopyTo(lowered);

        var cls = _class;
        var model = _model;
        if (buffers.Hashes.Length <= src.Length) buffers.Hashes = new uint[src.Length + 1];
        var hashes = buffers.Hashes;
        // The scan also hashes each word as it goes (hashes[k] = hash of its first k chars), which is what the
        // model's first, longest-first lookup needs.
        int wordStart = -1;
        uint h = 0;
        for (int i = 0; i < lowered.Length; i++)
        {
            char c = lowered[i];
            byte k = cls[c];
            if (k == Word)
            {
                if (wordStart < 0) { wordStart = i; h = 0; }
                hashes[i - wordStart + 1] = h = PrefixHashTable.Extend(h, c);
                continue;
            }
            if (wordStart >= 0) { model.TokenizeSpan(lowered[wordStart..i], offset + wordStart, output, buffers, true); wordStart = -1; }
            if (k == Punct)
            {
                hashes[1] = PrefixHashTable.Extend(0, c);
                model.TokenizeSpan(lowered.Slice(i, 1), offset + i, output, buffers, true);
            }
        }
        if (wordStart >= 0) model.TokenizeSpan(lowered[wordStart..], offset + wordStart, output, buffers, true);
    }
}
