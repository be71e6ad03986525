using System.Text;

namespace NativeTransformer.Tokenization;

/// <summary>
/// SentencePiece's Unigram model as HF's tokenizers runs it (models/unigram/model.rs, encode_optimized): a Viterbi
/// pass over the code points of one pre-token, every vocabulary piece a candidate (its score added), ties kept by the
/// first (shortest) candidate; a code point no piece starts with costs min_score − 10 as the unknown token, and
/// consecutive unknowns are fused into one unknown token (or, with byte_fallback, spelled as &lt;0xXX&gt; byte pieces).
/// </summary>
/// <remarks>
/// Written here rather than wrapping Microsoft.ML.Tokenizers' SentencePieceTokenizer: that one emits one &lt;unk&gt;
/// per unknown character (HF and sentencepiece fuse the run), calls <c>string.Normalize</c> (a no-op under
/// InvariantGlobalization), gives wrong byte-fallback ids when it reads a .model, and offers no offsets into our
/// normalized-text alignments. Measured on SST-2 train, this Viterbi is faster than it (docs/tokenizers.md).
/// </remarks>
internal sealed class UnigramModel
{
    private const double UnkPenalty = 10.0;
    private const int CacheLimit = 100_000, CacheMaxChars = 48;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private int _cached; // ConcurrentDictionary.Count takes every lock: count insertions instead

    private readonly string[] _pieces;
    private readonly double[] _scores;
    private readonly Dictionary<string, int> _ids;
    // Trie over code points: children of the root in a flat BMP table, deeper edges in a hash map keyed (node << 21 | cp).
    private readonly int[] _rootBmp = new int[0x10000];
    private readonly Dictionary<long, int> _edges = new();
    private readonly List<int> _terminal = new() { -1 };
    private readonly double _unkScore;
    private readonly int[]? _byteIds;

    public int UnkId { get; }
    public bool ByteFallback => _byteIds != null;
    public int Count => _pieces.Length;

    /// <summary>Builds the trie; <paramref name="where"/> (file and key) is named in errors.</summary>
    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocab, int unkId, bool byteFallback, string where)
    {
        if (vocab.Count == 0) throw new TokenizerException($"{where}: the Unigram vocabulary is empty");
        if (unkId < 0 || unkId >= vocab.Count)
            throw new TokenizerException($"{where}: unk_id {unkId} is outside the vocabulary (0..{vocab.Count - 1})");
        _pieces = new string[vocab.Count];
        _scores = new double[vocab.Count];
        _ids = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        double min = double.PositiveInfinity;
        for (int id = 0; id < vocab.Count; id++)
        {
            var (piece, score) = vocab[id];
            if (piece == null) throw new TokenizerException($"{where}: vocabulary entry {id} has no piece");
            if (!double.IsFinite(score)) throw new TokenizerException($"{where}: vocabulary entry {id} ('{piece}') has score {score}");
            _pieces[id] = piece;
            _scores[id] = score;
            _ids[piece] = id; // HF: a repeated piece maps to its last id
            min = Math.Min(min, score);
            if (piece.Length > 0) Insert(piece);
        }
        _unkScore = min - UnkPenalty;
        _lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        UnkId = unkId;
        if (byteFallback)
        {
            _byteIds = new int[256];
            for (int b = 0; b < 256; b++) _byteIds[b] = _ids.TryGetValue($"<0x{b:X2}>", out var bid) ? bid : -1;
        }
    }

    private void Insert(string piece)
    {
        int node = 0;
        foreach (var r in piece.EnumerateRunes())
        {
            int next = Child(node, r.Value);
            if (next < 0)
            {
                next = _terminal.Count;
                _terminal.Add(-1);
                if (node == 0 && r.Value < 0x10000) _rootBmp[r.Value] = next;
                else _edges[((long)node << 21) | (uint)r.Value] = next;
            }
            node = next;
        }
        _terminal[node] = _ids[piece]; // the last id of a repeated piece, as HF's lookup after its trie search
    }

    private int Child(int node, int cp)
    {
        if (node == 0 && cp < 0x10000) { int c = _rootBmp[cp]; return c == 0 ? -1 : c; }
        return _edges.TryGetValue(((long)node << 21) | (uint)cp, out var n) ? n : -1;
    }

    public string IdToToken(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"id must be in 0..{_pieces.Length - 1}");

    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>Per-call buffers (the model itself is immutable and shared between threads).</summary>
    public sealed class Scratch
    {
        public double[] Score = new double[64];
        public int[] From = new int[64];
        public int[] Id = new int[64];
        public readonly List<int> Triples = new();

        public void Ensure(int n)
        {
            if (Score.Length >= n) return;
            int size = Math.Max(n, Score.Length * 2);
            Score = new double[size]; From = new int[size]; Id = new int[size];
        }
    }

    /// <summary>Appends the tokens of one pre-token, code points [from, to) of <paramref name="text"/>; offsets come
    /// from its alignments. Results of short pre-tokens are cached (as HF's Unigram does): words repeat, and a cache
    /// hit skips the Viterbi pass.</summary>
    public void Tokenize(NormalizedText text, int from, int to, TokenList output, Scratch s)
    {
        int n = to - from;
        if (n <= 0) return;
        var piece = new Piece(text, from);
        int[] triples;
        if (n > CacheMaxChars)
        {
            s.Triples.Clear();
            Segment(piece, n, s.Triples, s);
            triples = s.Triples.ToArray();
        }
        else
        {
            Span<char> buf = stackalloc char[2 * CacheMaxChars];
            int len = 0;
            for (int i = 0; i < n; i++) len += new Rune(piece[i]).EncodeToUtf16(buf[len..]);
            if (!_lookup.TryGetValue(buf[..len], out triples!))
            {
                s.Triples.Clear();
                Segment(piece, n, s.Triples, s);
                triples = s.Triples.ToArray();
                if (_cached < CacheLimit && _cache.TryAdd(new string(buf[..len]), triples)) Interlocked.Increment(ref _cached);
            }
        }
        for (int i = 0; i < triples.Length; i += 3)
            output.Add(triples[i], _pieces[triples[i]], text.Start[from + triples[i + 1]], text.End[from + triples[i + 2] - 1]);
    }

    /// <summary>A pre-token: code points from <see cref="Offset"/> of a shared buffer, indexed from 0.</summary>
    private readonly record struct Piece(NormalizedText Text, int Offset)
    {
        public int this[int i] => Text.Chars[Offset + i];
    }

    /// <summary>The Viterbi pass over the <paramref name="n"/> code points of <paramref name="piece"/>: appends
    /// (id, from, to) code-point ranges (relative to the piece) of the best segmentation.</summary>
    private void Segment(Piece piece, int n, List<int> result, Scratch s)
    {
        s.Ensure(n + 1);
        var score = s.Score; var from = s.From; var ids = s.Id;
        for (int i = 0; i <= n; i++) from[i] = -1;
        score[0] = 0;
        for (int start = 0; start < n; start++)
        {
            double here = score[start];
            bool single = false;
            int node = 0;
            for (int k = start; k < n; k++)
            {
                node = Child(node, piece[k]);
                if (node < 0) break;
                int id = _terminal[node];
                if (id < 0) continue;
                int end = k + 1;
                double cand = here + _scores[id];
                if (from[end] < 0 || cand > score[end]) { score[end] = cand; from[end] = start; ids[end] = id; }
                if (end == start + 1) single = true;
            }
            if (!single)
            {
                double cand = here + _unkScore;
                if (from[start + 1] < 0 || cand > score[start + 1]) { score[start + 1] = cand; from[start + 1] = start; ids[start + 1] = UnkId; }
            }
        }
        // Backtrack into the end positions of the best path, then emit left to right, fusing runs of unknowns.
        int count = 0;
        for (int e = n; e > 0; e = from[e]) count++;
        Span<int> ends = count <= 256 ? stackalloc int[count] : new int[count];
        int w = count;
        for (int e = n; e > 0; e = from[e]) ends[--w] = e;
        int prev = 0;
        for (int t = 0; t < count; t++)
        {
            int e = ends[t];
            int id = ids[e];
            if (id == UnkId)
            {
                while (t + 1 < count && ids[ends[t + 1]] == UnkId) e = ends[++t];
                Unknown(piece, prev, e, result);
            }
            else { result.Add(id); result.Add(prev); result.Add(e); }
            prev = e;
        }
    }

    private void Unknown(Piece piece, int from, int to, List<int> result)
    {
        string text = NormalizerSteps.ToUtf16(piece.Text, piece.Offset + from, piece.Offset + to, null);
        // HF looks the fused string up again: it is a real piece only in contrived vocabularies.
        if (_ids.TryGetValue(text, out var known) && known != UnkId) { result.Add(known); result.Add(from); result.Add(to); return; }
        if (_byteIds != null)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            bool all = true;
            foreach (var b in bytes) if (_byteIds[b] < 0) { all = false; break; }
            if (all)
            {
                foreach (var b in bytes) { result.Add(_byteIds[b]); result.Add(from); result.Add(to); }
                return;
            }
        }
        result.Add(UnkId); result.Add(from); result.Add(to);
    }
}
