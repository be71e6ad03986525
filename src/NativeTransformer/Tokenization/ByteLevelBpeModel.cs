using System.Collections.Concurrent;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace NativeTransformer.Tokenization;

/// <summary>
/// Byte-level BPE (GPT-2 / RoBERTa) for one stretch of plain text: the ByteLevel pre-tokenizer (optionally with a
/// prefix space), UTF-8 bytes shown as GPT-2's alphabet, then BPE merges. Offsets are UTF-16 indices into the original
/// string; a token that covers only some bytes of a character gets the whole character's range (as HF).
/// </summary>
/// <remarks>
/// The merges run in Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>, built from the vocabulary and merges in
/// memory (its file-reading constructor uses reflection-based JSON, which Native AOT does not support) and fed one
/// pre-token at a time, already mapped to the byte alphabet, with no pre-tokenizer or normalizer of its own: the
/// splitting and offsets are ours so that offsets index the original string.
/// </remarks>
internal sealed class ByteLevelBpeModel : ISegmentModel
{
    private readonly string[] _idToToken;
    private readonly Dictionary<string, int> _vocab;
    private readonly BpeTokenizer _bpe;
    private readonly bool _addPrefixSpace;
    private readonly bool _useRegex;

    /// <param name="vocab">token → id; ids must be 0..Count-1, each once.</param>
    /// <param name="merges">Merge rules, highest priority first.</param>
    /// <param name="addPrefixSpace">Put a space before the text unless it starts with one (add_prefix_space).</param>
    /// <param name="useRegex">Split with GPT-2's pattern first (use_regex).</param>
    /// <param name="source">Names the files in errors.</param>
    public ByteLevelBpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, bool addPrefixSpace, bool useRegex, string source)
    {
        _vocab = vocab;
        _idToToken = new string[vocab.Count];
        foreach (var (token, id) in vocab)
        {
            if ((uint)id >= (uint)vocab.Count)
                throw new TokenizerException($"{source}: token '{token}' has id {id}; ids must be 0..{vocab.Count - 1} (one per vocabulary entry)");
            if (_idToToken[id] != null)
                throw new TokenizerException($"{source}: id {id} is given to both '{_idToToken[id]}' and '{token}'");
            _idToToken[id] = token;
        }
        // Every byte must have a token: otherwise HF silently drops the character (there is no unknown token).
        foreach (char c in ByteLevel.ByteToChar)
            if (!vocab.ContainsKey(c.ToString()))
                throw new TokenizerException($"{source}: the byte-level vocabulary lacks the byte token '{c}' (U+{(int)c:X4}); every one of the 256 must be present");
        var mergeStrings = new string[merges.Count];
        for (int i = 0; i < merges.Count; i++)
        {
            var (l, r) = merges[i];
            if (!vocab.ContainsKey(l) || !vocab.ContainsKey(r) || !vocab.ContainsKey(l + r))
                throw new TokenizerException($"{source}: merge {i + 1} '{l} {r}' names a token outside the vocabulary");
            if (l.Contains(' ') || r.Contains(' '))
                throw new TokenizerException($"{source}: merge {i + 1} holds a space, which a byte-level vocabulary never does");
            mergeStrings[i] = l + " " + r;
        }
        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(vocab) { Merges = mergeStrings, ByteLevel = false });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new TokenizerException($"{source}: the BPE model cannot be built: {e.Message}", e);
        }
        _addPrefixSpace = addPrefixSpace;
        _useRegex = useRegex;
    }

    public int VocabSize => _idToToken.Length;
    public string IdToToken(int id) => _idToToken[id];
    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    public void Tokenize(string text, int start, int end, TokenList output)
    {
        // add_prefix_space: HF prepends ' ' unless the text already starts with one; the added space has the
        // (empty) range at the start of the text.
        string s = text;
        int from = start, to = end, shift = 0;
        if (_addPrefixSpace && text[start] != ' ')
        {
            s = string.Concat(" ", text.AsSpan(start, end - start));
            from = 0; to = s.Length; shift = start - 1;
        }
        var state = new State(this, s, shift, start, output);
        if (_useRegex) ByteLevel.Split(s, from, to, ref state, static (ref State st, int a, int b) => st.Model.Word(ref st, a, b));
        else Word(ref state, from, to);
    }

    private struct State(ByteLevelBpeModel model, string text, int shift, int origin, TokenList output)
    {
        public readonly ByteLevelBpeModel Model = model;
        public readonly string Text = text;
        /// <summary>Index in <see cref="Text"/> + Shift = index in the original; index 0 of a prefixed copy maps to Origin.</summary>
        public readonly int Shift = shift;
        public readonly int Origin = origin;
        public readonly TokenList Output = output;
        public List<int>? ByteStart;
        public List<int>? ByteEnd;
    }

    // Words seen before skip the merges: ML.Tokenizers called once per pre-token measured 128k sentences/s on SST-2
    // train against 266k/s for its own whole-text pipeline (which caches per word internally); the lookup by span
    // needs no allocation. Bounded so hostile input cannot grow it without limit.
    private const int MaxCacheEntries = 100_000;
    private const int MaxCachedWordLength = 64;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    private int[] Merge(ReadOnlySpan<char> word)
    {
        var lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(word, out var cached)) return cached;
        var ids = _bpe.EncodeToIds(ToByteAlphabet(word), considerPreTokenization: false, considerNormalization: false).ToArray();
        if (word.Length <= MaxCachedWordLength && _cache.Count < MaxCacheEntries) lookup.TryAdd(word, ids);
        return ids;
    }

    /// <summary>The UTF-8 bytes of <paramref name="word"/> (lone surrogates as U+FFFD) in GPT-2's byte alphabet.</summary>
    private static string ToByteAlphabet(ReadOnlySpan<char> word)
    {
        var sb = new StringBuilder(word.Length * 2);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < word.Length;)
        {
            int cp = CodePointAt(word, i, out int len);
            int n = new Rune(cp).EncodeToUtf8(utf8);
            for (int k = 0; k < n; k++) sb.Append(ByteLevel.ByteToChar[utf8[k]]);
            i += len;
        }
        return sb.ToString();
    }

    private static int CodePointAt(ReadOnlySpan<char> s, int i, out int length)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        length = 1;
        return char.IsSurrogate(c) ? 0xFFFD : c;
    }

    private void Word(ref State st, int start, int end)
    {
        if (end <= start) return;
        var word = st.Text.AsSpan(start, end - start);
        int[] ids = Merge(word);
        if (System.Text.Ascii.IsValid(word))
        {
            // One byte per character: token offsets follow from the token lengths.
            int pos = start;
            foreach (int id in ids)
            {
                string tok = _idToToken[id];
                st.Output.Add(id, tok, Math.Max(pos + st.Shift, st.Origin), Math.Max(pos + tok.Length + st.Shift, st.Origin));
                pos += tok.Length;
            }
            return;
        }
        // Byte i of the word -> the original range of the character it belongs to.
        var bs = st.ByteStart ??= new List<int>(); bs.Clear();
        var be = st.ByteEnd ??= new List<int>(); be.Clear();
        for (int i = 0; i < word.Length;)
        {
            int cp = CodePointAt(word, i, out int len);
            int n = new Rune(cp).Utf8SequenceLength;
            int os = Math.Max(start + i + st.Shift, st.Origin), oe = Math.Max(start + i + len + st.Shift, st.Origin);
            for (int k = 0; k < n; k++) { bs.Add(os); be.Add(oe); }
            i += len;
        }
        int b = 0;
        foreach (int id in ids)
        {
            string tok = _idToToken[id];
            int last = Math.Min(b + tok.Length, bs.Count) - 1;
            st.Output.Add(id, tok, bs[b], be[last]);
            b += tok.Length;
        }
        if (b != bs.Count) throw new InvalidOperationException($"BPE tokens cover {b} of {bs.Count} bytes");
    }
}
