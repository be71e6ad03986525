using System.Text;

namespace NativeTransformer.Tests.Serving;

/// <summary>One generated request.</summary>
internal sealed record FuzzRequest(string Method, string Path, byte[] Body, (string Name, string Value)[] Headers, string Kind);

/// <summary>
/// A deterministic (seeded) generator of HTTP requests for ntr serve: valid /v1/embeddings and /v1/classify
/// bodies with hostile text (unpaired surrogates, combining marks, zero-width and right-to-left characters,
/// long strings), byte-level mutations of them (flips, cuts, splices, JSON tokens dropped in), random JSON
/// documents, and odd headers. Same seed, same sequence.
/// </summary>
internal sealed class HttpRequestFuzzer(int seed)
{
    private readonly Random _r = new(seed);

    private static readonly string[] Models = ["mlm", "sst", "nope", "", "MLM", "mlm ", "../mlm", "m\u00e9"];
    private static readonly string[] Paths = ["/v1/embeddings", "/v1/classify"];
    private static readonly string[] OddPaths = ["/v1/models", "/health", "/v1/embeddings/", "/V1/EMBEDDINGS", "/v1/models/mlm/load", "/v1/models/zzz/load", "/v1//classify", "/v1/embeddings?x=1"];
    private static readonly string[] OddMethods = ["GET", "PUT", "DELETE", "PATCH"];
    private static readonly string[] Fields = ["input", "model", "encoding_format", "dimensions"];
    private static readonly string[] Tokens = ["{", "}", "[", "]", "\"", "\\", "\\u", "\\ud800", "\\udfff", "\\u0000", ":", ",", "null", "true", "-0", "1e309", "-1e-400",
        "123456789012345678901234567890", "\"input\"", "\"model\"", "\"encoding_format\"", "\"base64\"", "[[[[[[[[[[[[[[[[[[", "\u00ff", "\u00c3", "\0"];
    private static readonly string[] ContentTypes = ["application/json", "text/plain", "application/json; charset=utf-16", "multipart/form-data; boundary=x", "", "*/*", "application/x-www-form-urlencoded"];
    // Characters that break naive text handling: combining marks, zero-width, bidi controls, BOM, replacement
    // character, CJK, emoji (surrogate pairs), NUL and other controls.
    private static readonly string[] Pieces = ["a", "the ", "movie", " ", "\u0301", "\u0308\u0308\u0308", "\u200b", "\u200d", "\u200e", "\u202e", "\u2066", "\ufeff",
        "\ufffd", "\u4e2d\u6587", "\ud83d\ude00", "\ud83d\udc68\u200d\ud83d\udc69", "\0", "\u0007", "\t", "\n", "\u00a0", "\u0645\u0631\u062d\u0628\u0627", "[CLS]", "[SEP]", "##ing", "\u3000"];

    public FuzzRequest Next()
    {
        int pick = _r.Next(100);
        var (kind, body) = pick switch
        {
            < 30 => ("valid", Encoding.UTF8.GetBytes(ValidBody())),
            < 70 => ("mutated", Mutate(Encoding.UTF8.GetBytes(ValidBody()))),
            < 85 => ("random-json", Encoding.UTF8.GetBytes(RandomJson(0))),
            _ => ("random-bytes", RandomBytes()),
        };
        string path = _r.Next(10) == 0 ? OddPaths[_r.Next(OddPaths.Length)] : Paths[_r.Next(Paths.Length)];
        string method = _r.Next(20) == 0 ? OddMethods[_r.Next(OddMethods.Length)] : "POST";
        var headers = new List<(string, string)> { ("Content-Type", ContentTypes[_r.Next(ContentTypes.Length)]) };
        if (_r.Next(5) == 0) headers.Add(("X-" + Word(8), Printable(_r.Next(1, 200))));
        if (_r.Next(10) == 0) headers.Add(("Accept", Printable(_r.Next(1, 50))));
        if (_r.Next(10) == 0) headers.Add(("Connection", "close"));
        return new FuzzRequest(method, path, body, [.. headers], kind);
    }

    /// <summary>A whole HTTP/1.1 request as bytes (request line, headers, body), then mutated at the byte level
    /// like a body: breaks the framing (methods, targets, versions, header syntax, Content-Length) too.</summary>
    public byte[] NextRaw()
    {
        var r = Next();
        var head = new StringBuilder($"{r.Method} {r.Path} HTTP/1.1\r\nHost: localhost\r\n");
        foreach (var (name, value) in r.Headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        head.Append("Content-Length: ").Append(r.Body.Length).Append("\r\n\r\n");
        return Mutate([.. Encoding.Latin1.GetBytes(head.ToString()), .. r.Body]);
    }

    /// <summary>A well-formed request body: input a string or an array, a model name, maybe an encoding_format.</summary>
    private string ValidBody()
    {
        var sb = new StringBuilder("{");
        var fields = new List<string>();
        if (_r.Next(10) != 0)
            fields.Add("\"input\":" + (_r.Next(3) == 0 ? Quote(Text()) : "[" + string.Join(",", Enumerable.Range(0, _r.Next(15) == 0 ? _r.Next(0, 20) : _r.Next(1, 6)).Select(_ => Quote(Text()))) + "]"));
        // Mostly a served model, so a good share of requests reach the batcher and the models.
        if (_r.Next(10) != 0) fields.Add("\"model\":" + Quote(_r.Next(3) != 0 ? "sst" : Models[_r.Next(Models.Length)]));
        if (_r.Next(4) == 0) fields.Add("\"encoding_format\":" + Quote(_r.Next(5) switch { 0 or 1 => "float", 2 or 3 => "base64", _ => Word(5) }));
        if (_r.Next(10) == 0) fields.Add(Quote(Word(6)) + ":" + RandomJson(1));
        Shuffle(fields);
        sb.Append(string.Join(",", fields)).Append('}');
        return sb.ToString();
    }

    /// <summary>Text built from awkward pieces; now and then long, or with a raw lone surrogate (which the JSON
    /// quoting below writes as a \uD8xx escape, as a client library would).</summary>
    private string Text()
    {
        var sb = new StringBuilder();
        int n = _r.Next(20) == 0 ? _r.Next(300, 1500) : _r.Next(0, 12);
        for (int i = 0; i < n; i++)
        {
            sb.Append(Pieces[_r.Next(Pieces.Length)]);
            if (_r.Next(300) == 0) sb.Append((char)_r.Next(0xD800, 0xE000));
            if (_r.Next(20) == 0) sb.Append((char)_r.Next(0x20, 0xFFFF));
        }
        return sb.ToString();
    }

    /// <summary>A JSON string literal; every non-ASCII or control character as a \uXXXX escape (lone surrogates too).</summary>
    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c == '"' || c == '\\') sb.Append('\\').Append(c);
            else if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4"));
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    private byte[] Mutate(byte[] body)
    {
        var bytes = new List<byte>(body);
        int edits = _r.Next(1, 5);
        for (int e = 0; e < edits; e++)
        {
            int at = bytes.Count == 0 ? 0 : _r.Next(bytes.Count);
            switch (_r.Next(6))
            {
                case 0 when bytes.Count > 0: bytes[at] ^= (byte)(1 << _r.Next(8)); break;                       // bit flip
                case 1 when bytes.Count > 0: bytes.RemoveRange(at, Math.Min(_r.Next(1, 10), bytes.Count - at)); break;   // cut
                case 2: bytes.InsertRange(at, Encoding.Latin1.GetBytes(Tokens[_r.Next(Tokens.Length)])); break;    // token
                case 3 when bytes.Count > 0:                                                                    // splice a copy
                    int len = Math.Min(_r.Next(1, 40), bytes.Count - at);
                    bytes.InsertRange(_r.Next(bytes.Count), bytes.GetRange(at, len)); break;
                case 4: bytes.RemoveRange(at, bytes.Count - at); break;                                          // truncate
                default: bytes.Insert(at, (byte)_r.Next(256)); break;                                            // random byte
            }
        }
        return [.. bytes];
    }

    /// <summary>Random JSON, occasionally nested past the parser's depth limit.</summary>
    private string RandomJson(int depth)
    {
        int max = _r.Next(50) == 0 ? 40 : 6;
        switch (depth >= max ? _r.Next(5) : _r.Next(7))
        {
            case 0: return "null";
            case 1: return _r.Next(2) == 0 ? "true" : "false";
            case 2: return _r.Next(4) switch { 0 => _r.Next().ToString(), 1 => "-1e400", 2 => (_r.NextDouble() * 1e30).ToString("R", System.Globalization.CultureInfo.InvariantCulture), _ => "0.000001" };
            case 3: return Quote(_r.Next(2) == 0 ? Word(_r.Next(0, 10)) : Text());
            case 4: return Quote(Word(3));
            case 5: return "[" + string.Join(",", Enumerable.Range(0, _r.Next(0, 4)).Select(_ => RandomJson(depth + 1))) + "]";
            default:
                return "{" + string.Join(",", Enumerable.Range(0, _r.Next(0, 4)).Select(_ =>
                    Quote(_r.Next(3) == 0 ? Fields[_r.Next(Fields.Length)] : Word(4)) + ":" + RandomJson(depth + 1))) + "}";
        }
    }

    private byte[] RandomBytes()
    {
        var b = new byte[_r.Next(0, 300)];
        _r.NextBytes(b);
        return b;
    }

    private string Word(int n) => new(Enumerable.Range(0, n).Select(_ => (char)('a' + _r.Next(26))).ToArray());
    private string Printable(int n) => new(Enumerable.Range(0, n).Select(_ => (char)_r.Next(0x20, 0x7f)).ToArray());

    private void Shuffle(List<string> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = _r.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
