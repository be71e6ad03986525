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
        public readonly StringBuilder Mapped = new();
        public readonly List<int> ByteStart = new();
        public readonly List<int> ByteEnd = new();
    }

    private void Word(ref State st, int start, int end)
    {
        if (end <= start) return;
        var mapped = st.Mapped; mapped.Clear();
        var bs = st.ByteStart; bs.Clear();
        var be = st.ByteEnd; be.Clear();
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = start; i < end;)
        {
            int cp = ByteLevel.CodePointAt(st.Text, i, end, out int len);
            int n = new Rune(cp).EncodeToUtf8(utf8);
            int os = Math.Max(i + st.Shift, st.Origin), oe = Math.Max(i + len + st.Shift, st.Origin);
            for (int k = 0; k < n; k++)
            {
                mapped.Append(ByteLevel.ByteToChar[utf8[k]]);
                bs.Add(os);
                be.Add(oe);
            }
            i += len;
        }
        var ids = _bpe.EncodeToIds(mapped.ToString(), considerPreTokenization: false, considerNormalization: false);
        int pos = 0;
        foreach (int id in ids)
        {
            string tok = _idToToken[id];
            int last = Math.Min(pos + tok.Length, bs.Count) - 1;
            st.Output.Add(id, tok, bs[pos], be[last]);
            pos += tok.Length;
        }
        if (pos != bs.Count) throw new InvalidOperationException($"BPE tokens cover {pos} of {bs.Count} bytes");
    }
}
