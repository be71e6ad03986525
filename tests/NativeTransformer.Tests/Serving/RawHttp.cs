using System.Net.Sockets;
using System.Text;

namespace NativeTransformer.Tests.Serving;

/// <summary>A parsed HTTP/1.x response read off a raw socket.</summary>
internal sealed record RawResponse(int Status, Dictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;
}

/// <summary>
/// HTTP over a bare TCP socket, for what HttpClient will not send (garbage, bad framing, trickled bytes,
/// pipelining, half-sent requests) and for reading answers byte-exactly (Content-Length or chunked).
/// </summary>
internal sealed class RawHttp : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    public Socket Socket { get; }
    private RawHttp(Socket socket) => Socket = socket;

    public static async Task<RawHttp> ConnectAsync(Uri address, int? receiveBuffer = null, CancellationToken ct = default)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer is int rb) socket.ReceiveBufferSize = rb;   // before connect, so the window stays small
        try { await socket.ConnectAsync(address.Host, address.Port, ct); }
        catch { socket.Dispose(); throw; }
        return new RawHttp(socket);
    }

    public static string Post(string path, string json, string extraHeaders = "") =>
        $"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{extraHeaders}Content-Length: {Encoding.UTF8.GetByteCount(json)}\r\n\r\n{json}";

    public static string Get(string path) => $"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n";

    public Task SendAsync(string text, CancellationToken ct = default) => SendAsync(Encoding.UTF8.GetBytes(text), ct);

    public async Task SendAsync(byte[] bytes, CancellationToken ct = default)
    {
        int sent = 0;
        while (sent < bytes.Length) sent += await Socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, ct);
    }

    /// <summary>Closes with a TCP reset (no FIN): what a crashed client or a killed process looks like.</summary>
    public void Reset()
    {
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Close();
    }

    /// <summary>The next response, or null when the server closed the connection before sending a byte of one.</summary>
    public async Task<RawResponse?> ReadResponseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var ct = cts.Token;
        string? statusLine = await ReadLineAsync(ct);
        if (statusLine is null) return null;
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(parts[1], out int status))
            throw new InvalidDataException("bad status line: " + statusLine);
        var headers = new Dictionary<string, string>();
        string? line;
        while (!string.IsNullOrEmpty(line = await ReadLineAsync(ct)))
        {
            int colon = line.IndexOf(':');
            headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }
        if (line is null) throw new InvalidDataException("connection closed inside the headers");
        var body = new MemoryStream();
        if (headers.TryGetValue("transfer-encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (true)
            {
                string size = await ReadLineAsync(ct) ?? throw new InvalidDataException("connection closed inside a chunked body");
                int n = Convert.ToInt32(size.Split(';')[0].Trim(), 16);
                if (n == 0) { await ReadLineAsync(ct); break; }
                await ReadExactAsync(body, n, ct);
                await ReadLineAsync(ct);
            }
        }
        else if (headers.TryGetValue("content-length", out var cl))
            await ReadExactAsync(body, int.Parse(cl), ct);
        return new RawResponse(status, headers, body.ToArray());
    }

    /// <summary>Bytes <see cref="ClosedWithinAsync"/> read and threw away (anything after the expected answers).</summary>
    public long Discarded { get; private set; }

    /// <summary>True when the server has closed the connection (reads end or reset) within <paramref name="timeout"/>,
    /// discarding (and counting in <see cref="Discarded"/>) whatever else arrives first.</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                Discarded += _end - _start;
                _start = _end = 0;
                int n = await Socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token);
                if (n == 0) return true;
                _end = n;
            }
        }
        catch (OperationCanceledException) { return false; }
        catch (SocketException) { return true; }
    }

    private async Task<bool> FillAsync(CancellationToken ct)
    {
        if (_start == _end) _start = _end = 0;
        else if (_end == _buffer.Length) { Array.Copy(_buffer, _start, _buffer, 0, _end - _start); _end -= _start; _start = 0; }
        int n;
        try { n = await Socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, ct); }
        catch (SocketException) { return false; }   // reset by the server: same as closed for our callers
        _end += n;
        return n > 0;
    }

    private async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        var line = new StringBuilder();
        while (true)
        {
            for (; _start < _end; _start++)
            {
                char c = (char)_buffer[_start];
                if (c == '\n')
                {
                    _start++;
                    return line.ToString().TrimEnd('\r');
                }
                line.Append(c);
            }
            if (!await FillAsync(ct)) return line.Length == 0 ? null : throw new InvalidDataException("connection closed mid-line: " + line);
        }
    }

    private async Task ReadExactAsync(MemoryStream into, int count, CancellationToken ct)
    {
        while (count > 0)
        {
            if (_start == _end && !await FillAsync(ct)) throw new InvalidDataException($"connection closed with {count} body bytes missing");
            int n = Math.Min(count, _end - _start);
            into.Write(_buffer, _start, n);
            _start += n;
            count -= n;
        }
    }

    public void Dispose() => Socket.Dispose();
}
