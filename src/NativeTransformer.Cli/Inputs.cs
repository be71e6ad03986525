using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace NativeTransformer.Cli;

/// <summary>
/// Reads lines one at a time from a byte stream (a file, or stdin) as strict UTF-8, or from a
/// <see cref="TextReader"/> that already holds decoded text (tests). Line rules:
/// lines end at '\n'; one trailing '\r' is stripped; a UTF-8 BOM at the very start is skipped; an empty
/// line is an empty line (returned as ""); a final '\n' does not start another line. A line that is not
/// valid UTF-8 throws <see cref="InputException"/> naming the source and the 1-based line number.
/// Memory is bounded by the longest line (at most <see cref="MaxLineBytes"/>).
/// </summary>
internal sealed class LineReader : IDisposable
{
    public const int MaxLineBytes = 64 << 20;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream? _stream;
    private readonly TextReader? _text;
    private readonly bool _ownsSource;
    private byte[] _buf = [];
    private int _start, _end, _scanned;
    private bool _eof;

    /// <summary>Name used in error messages ("&lt;stdin&gt;" or the file path).</summary>
    public string SourceName { get; }
    /// <summary>1-based number of the line last returned (0 before the first).</summary>
    public int LineNumber { get; private set; }

    public LineReader(Stream stream, string sourceName, bool ownsStream = true)
    {
        _stream = stream; SourceName = sourceName; _ownsSource = ownsStream;
        _buf = new byte[64 * 1024];
    }

    public LineReader(TextReader text, string sourceName, bool ownsReader = false)
    {
        _text = text; SourceName = sourceName; _ownsSource = ownsReader;
    }

    /// <summary>Opens <paramref name="path"/> ("-" or null = <paramref name="stdin"/>). A <see cref="StreamReader"/>
    /// stdin is read as raw bytes through its base stream so decoding stays strict and line-accurate.</summary>
    public static LineReader Open(string? path, TextReader stdin)
    {
        if (path is null or "-")
        {
            if (stdin is StreamReader sr && sr.BaseStream.CanRead)
                return new LineReader(sr.BaseStream, "<stdin>", ownsStream: false);
            return new LineReader(stdin, "<stdin>");
        }
        return new LineReader(OpenFile(path), path);
    }

    /// <summary>Opens an input file for reading, turning "not found" into a one-line <see cref="InputException"/>.</summary>
    public static FileStream OpenFile(string path)
    {
        if (Directory.Exists(path)) throw new InputException($"{path}: is a directory, expected a file");
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    public bool TryReadLine([NotNullWhen(true)] out string? line)
    {
        if (_text is not null)
        {
            line = _text.ReadLine();
            if (line is null) return false;
            LineNumber++;
            if (LineNumber == 1 && line.Length > 0 && line[0] == '\uFEFF') line = line[1..];
            return true;
        }

        while (true)
        {
            int nl = _end > _scanned ? Array.IndexOf(_buf, (byte)'\n', _scanned, _end - _scanned) : -1;
            if (nl >= 0)
            {
                // Consume the line before decoding it, so a bad line can be reported and reading can go on (--stream).
                int lineStart = _start;
                _start = _scanned = nl + 1;
                line = Decode(lineStart, nl - lineStart);
                return true;
            }
            _scanned = _end;
            if (_eof)
            {
                if (_start == _end) { line = null; return false; }
                int lineStart = _start;
                _start = _scanned = _end;
                line = Decode(lineStart, _end - lineStart);
                return true;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
                _end -= _start; _scanned -= _start; _start = 0;
            }
            if (_end == _buf.Length)
            {
                if (_buf.Length >= MaxLineBytes)
                    throw new InputException($"{SourceName}: line {LineNumber + 1}: longer than {MaxLineBytes >> 20} MiB");
                Array.Resize(ref _buf, Math.Min(_buf.Length * 2, MaxLineBytes));
            }
            int n = _stream!.Read(_buf, _end, _buf.Length - _end);
            if (n == 0) _eof = true; else _end += n;
        }
    }

    private string Decode(int offset, int length)
    {
        LineNumber++;
        if (length > 0 && _buf[offset + length - 1] == (byte)'\r') length--;
        if (LineNumber == 1 && length >= 3 && _buf[offset] == 0xEF && _buf[offset + 1] == 0xBB && _buf[offset + 2] == 0xBF)
        {
            offset += 3; length -= 3;
        }
        try
        {
            return StrictUtf8.GetString(_buf, offset, length);
        }
        catch (DecoderFallbackException e)
        {
            string where = e.Index >= 0 ? $" (byte {e.Index + 1} of the line)" : "";
            throw new InputException($"{SourceName}: line {LineNumber}: not valid UTF-8{where}");
        }
    }

    public void Dispose()
    {
        if (!_ownsSource) return;
        _stream?.Dispose();
        _text?.Dispose();
    }
}

/// <summary>Turns input lines into <see cref="TextInput"/>s: raw text, or JSON objects with --jsonl.</summary>
internal static class InputParsing
{
    /// <summary>
    /// Parses one JSON Lines record <c>{"text": "...", "text_pair": "..."}</c>. "text" is a required string;
    /// "text_pair" is optional (string or null); any other key, or any other shape, is an error naming the line.
    /// </summary>
    public static TextInput ParseJsonLine(string line, string source, int lineNumber)
    {
        string where = $"{source}: line {lineNumber}";
        if (line.Length == 0 || string.IsNullOrWhiteSpace(line))
            throw new InputException($"{where}: empty line; with --jsonl every line must be a JSON object {{\"text\": ...}}");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InputException($"{where}: invalid JSON: {OneLine(e.Message)}");
        }
        using (doc)
            return FromJsonObject(doc.RootElement, where);
    }

    /// <summary>Validates one input object ({"text", optional "text_pair"}); <paramref name="where"/> prefixes errors.</summary>
    public static TextInput FromJsonObject(JsonElement e, string where) => FromJsonObject(e, where, allowId: false);

    /// <summary>As above; with <paramref name="allowId"/> an "id" key (the --stream record id) is accepted and skipped.</summary>
    public static TextInput FromJsonObject(JsonElement e, string where, bool allowId)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new InputException($"{where}: expected an object {{\"text\": ..., \"text_pair\": ...}}, got {Describe(e.ValueKind)}");
        string? text = null, pair = null;
        int[]? global = null;
        bool sawText = false;
        foreach (var p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "text":
                    if (p.Value.ValueKind != JsonValueKind.String)
                        throw new InputException($"{where}: \"text\" must be a string, got {Describe(p.Value.ValueKind)}");
                    text = GetString(p.Value, where, "text");
                    sawText = true;
                    break;
                case "text_pair":
                    if (p.Value.ValueKind == JsonValueKind.Null) { pair = null; break; }
                    if (p.Value.ValueKind != JsonValueKind.String)
                        throw new InputException($"{where}: \"text_pair\" must be a string or null, got {Describe(p.Value.ValueKind)}");
                    pair = GetString(p.Value, where, "text_pair");
                    break;
                case "global_attention":
                    global = GlobalPositions(p.Value, where);
                    break;
                case "id" when allowId:
                    break;
                default:
                    throw new InputException($"{where}: unexpected key \"{p.Name}\" (allowed: \"text\", \"text_pair\", \"global_attention\"{(allowId ? ", \"id\"" : "")})");
            }
        }
        if (!sawText) throw new InputException($"{where}: missing \"text\"");
        return new TextInput(text!, pair) { GlobalAttention = global };
    }

    /// <summary>Longformer's "global_attention": token positions (non-negative ints; range-checked after tokenization), or null.</summary>
    private static int[]? GlobalPositions(JsonElement e, string where)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Array)
            throw new InputException($"{where}: \"global_attention\" must be an array of token positions, got {Describe(e.ValueKind)}");
        var positions = new int[e.GetArrayLength()];
        int i = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int p) || p < 0)
                throw new InputException($"{where}: \"global_attention\"[{i}] must be a non-negative integer token position, got {item.GetRawText()}");
            positions[i++] = p;
        }
        return positions;
    }

    /// <summary>Reads the encode command's input: a JSON array of {"text", "text_pair"?} objects.</summary>
    public static List<TextInput> ParseEncodeInput(Stream json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new InputException($"{source}: invalid JSON: {OneLine(e.Message)}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
                throw new InputException($"{source}: expected a JSON array of {{\"text\": ..., \"text_pair\": ...}} objects, got {Describe(root.ValueKind)}");
            var list = new List<TextInput>(root.GetArrayLength());
            int i = 0;
            foreach (var item in root.EnumerateArray())
            {
                list.Add(FromJsonObject(item, $"{source}: item {i}"));
                i++;
            }
            if (list.Count == 0) throw new InputException($"{source}: the array is empty; nothing to encode");
            return list;
        }
    }

    private static string GetString(JsonElement e, string where, string key)
    {
        try
        {
            return e.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new InputException($"{where}: \"{key}\" is not valid Unicode text");
        }
    }

    private static string Describe(JsonValueKind k) => k switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    internal static string OneLine(string s) => s.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');
}

/// <summary>Reads <see cref="TextInput"/>s in chunks from a <see cref="LineReader"/> (raw lines or JSON Lines).</summary>
internal sealed class InputChunker(LineReader reader, bool jsonl, Commands.RecordRange? range = null)
{
    private long _next;

    /// <summary>Fills <paramref name="chunk"/> with up to <paramref name="max"/> inputs; false when nothing is left.
    /// With a range (--shard) only lines [Start, End) are inputs; the lines before Start are read past, not parsed.</summary>
    public bool ReadChunk(List<TextInput> chunk, int max)
    {
        chunk.Clear();
        long end = range?.End ?? long.MaxValue;
        for (; _next < (range?.Start ?? 0); _next++)
        {
            // Another part's line: a bad one is that part's error, and TryReadLine consumes a line before decoding it.
            try { if (!reader.TryReadLine(out _)) return false; }
            catch (InputException) { }
        }
        while (chunk.Count < max && _next < end && reader.TryReadLine(out var line))
        {
            _next++;
            chunk.Add(jsonl ? InputParsing.ParseJsonLine(line, reader.SourceName, reader.LineNumber) : new TextInput(line));
        }
        return chunk.Count > 0;
    }
}
