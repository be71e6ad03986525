using System.Text;

namespace NativeTransformer.Tokenization;

/// <summary>
/// Token &lt;-&gt; id map read from vocab.txt: one token per line, id = line index.
/// </summary>
/// <remarks>
/// Line endings: "\n" and "\r\n" (a trailing "\r" is removed); a final newline does not add an empty token; an
/// empty line in the middle is the empty token. Duplicate tokens: like HF's <c>load_vocab</c> (an OrderedDict
/// written line by line) and the Rust <c>WordPiece::read_file</c> (a HashMap), the LAST line wins for
/// token -&gt; id, while <see cref="IdToToken"/> still returns every line's text and <see cref="Count"/> is the
/// number of lines (the embedding rows), not the number of distinct tokens.
/// </remarks>
internal sealed class Vocabulary
{
    /// <summary>Largest vocab.txt read (bert-base is 230 KB, a 250k-token multilingual vocabulary a few MB).</summary>
    public const long MaxFileBytes = 64 << 20;

    private readonly Dictionary<string, int> _map;
    private readonly HashSet<string> _duplicated = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;
    private string[] _tokens;

    public Vocabulary(IReadOnlyList<string> tokens)
    {
        _tokens = new string[tokens.Count];
        _map = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i] ?? throw new TokenizerException($"vocabulary entry {i} is null");
            _tokens[i] = t;
            if (_map.ContainsKey(t)) _duplicated.Add(t);
            _map[t] = i; // last duplicate wins, as in HF
            MaxTokenLength = Math.Max(MaxTokenLength, t.Length);
        }
        _spanLookup = _map.GetAlternateLookup<ReadOnlySpan<char>>();
        DuplicateCount = tokens.Count - _map.Count;
    }

    /// <summary>Number of ids (lines of vocab.txt, plus added tokens registered beyond them).</summary>
    public int Count => _tokens.Length;

    /// <summary>Length in UTF-16 units of the longest token: no longer string can be found (bounds WordPiece's search).</summary>
    public int MaxTokenLength { get; private set; }

    /// <summary>How many lines repeat a token of an earlier line.</summary>
    public int DuplicateCount { get; }

    /// <summary>True when <paramref name="token"/> is on more than one line.</summary>
    public bool IsDuplicated(string token) => _duplicated.Contains(token);

    public string IdToToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary (size {_tokens.Length})");

    /// <summary><see cref="IdToToken"/> for an id known to be valid (one this vocabulary gave): small enough to inline.</summary>
    public string TokenOf(int id) => _tokens[id];

    public bool TryGetId(string token, out int id) => _map.TryGetValue(token, out id);

    /// <summary>Every distinct token with its id (for a duplicated token, its last line).</summary>
    public IEnumerable<KeyValuePair<string, int>> Entries => _map;
    public bool TryGetId(ReadOnlySpan<char> token, out int id) => _spanLookup.TryGetValue(token, out id);

    /// <summary>Registers an added token (from tokenizer.json) under an explicit id outside vocab.txt.</summary>
    public void AddExtra(string token, int id)
    {
        if (id < _tokens.Length)
            throw new TokenizerException($"added token '{token}' has id {id}, which vocab.txt already uses for '{_tokens[id]}'");
        int old = _tokens.Length;
        Array.Resize(ref _tokens, id + 1);
        for (int i = old; i < id; i++) _tokens[i] ??= "";
        _tokens[id] = token;
        _map[token] = id;
        MaxTokenLength = Math.Max(MaxTokenLength, token.Length);
    }

    /// <summary>Reads vocab.txt (UTF-8, BOM tolerated).</summary>
    public static Vocabulary Load(string path)
    {
        if (!File.Exists(path)) throw new TokenizerException($"vocabulary file not found: {path}");
        string content;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
                throw new TokenizerException($"{path}: {length} bytes, over the {MaxFileBytes}-byte limit for a vocabulary; refusing to read it");
            content = File.ReadAllText(path, new UTF8Encoding(false, true));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            throw new TokenizerException($"cannot read {Path.GetFileName(path)} ({path}): {ex.Message}", ex);
        }
        var lines = SplitLines(content);
        if (lines.Count == 0) throw new TokenizerException($"{Path.GetFileName(path)} is empty: {path}");
        return new Vocabulary(lines);
    }

    internal static List<string> SplitLines(string content)
    {
        var lines = new List<string>();
        int pos = 0;
        while (pos < content.Length)
        {
            int nl = content.IndexOf('\n', pos);
            int end = nl < 0 ? content.Length : nl;
            int e = end;
            if (e > pos && content[e - 1] == '\r') e--;
            lines.Add(content.Substring(pos, e - pos));
            if (nl < 0) break;
            pos = nl + 1;
        }
        return lines;
    }
}
