using System.Text;
using System.Text.Json;

namespace NativeTransformer.Tests.Serving;

/// <summary>One ntr serve for a whole test class (starting Kestrel per case would cost more than the cases).</summary>
public sealed class SharedServer : IAsyncLifetime
{
    internal TestServer Server { get; private set; } = null!;
    public async Task InitializeAsync() => Server = await TestServer.StartAsync();
    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Broken HTTP and hostile JSON over raw sockets: every case gets a 4xx (or, for bytes that are not HTTP at
/// all, a closed connection), never a 5xx, and the server keeps serving. The one 5xx allowed is Kestrel's
/// 505 for an HTTP version it does not speak, which is what RFC 9110 asks for.
/// </summary>
public sealed class ServeMalformedHttpTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private const string Json = "{\"input\":\"hello\",\"model\":\"mlm\"}";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Raw requests and the status they must get: an exact code, 0 for "a 4xx or the connection closed",
    /// -1 for "the connection is closed" (after whatever non-HTTP/1 bytes).</summary>
    public static TheoryData<string, string, int> Framing => new()
    {
        { "garbage bytes", Garbage(), 400 },
        { "request line without version", "GET /health\r\n\r\n", 400 },
        { "not a request line", "HELLO\r\n\r\n", 400 },
        { "request line too long", "GET /" + new string('a', 10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414 },
        { "headers too large", "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('b', 40_000) + "\r\n\r\n", 431 },
        { "too many headers", "GET /health HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"X-{i}: v\r\n")) + "\r\n", 431 },
        { "header without colon", "GET /health HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n", 400 },
        { "header name with space", "GET /health HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400 },
        { "missing Host on HTTP/1.1", "GET /health HTTP/1.1\r\n\r\n", 400 },
        { "NUL in the path", "GET /he\0alth HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "negative Content-Length", "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n" + Json, 400 },
        { "non-numeric Content-Length", "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n" + Json, 400 },
        { "overflowing Content-Length", "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n" + Json, 400 },
        { "two different Content-Lengths", $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: {Json.Length}\r\nContent-Length: 3\r\n\r\n" + Json, 400 },
        { "Content-Length and chunked", $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: {Json.Length}\r\nTransfer-Encoding: chunked\r\n\r\n" + Json, 400 },
        { "unknown transfer coding", "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + Json, 400 },
        { "chunk size not hex", "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + Json + "\r\n0\r\n\r\n", 400 },
        { "chunk size overflowing", "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n" + Json + "\r\n0\r\n\r\n", 400 },
        { "chunk without its CRLF", $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{Json.Length:x}\r\n{Json}XX0\r\n\r\n", 400 },
        { "chunk over the body limit", "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\n" + new string('a', 1_100_000), 413 },
        { "unknown method", "BREW /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405 },
        { "CONNECT", "CONNECT localhost:80 HTTP/1.1\r\nHost: localhost:80\r\n\r\n", 0 },
        { "path traversal", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 0 },
        { "bad percent-encoding", "GET /%ZZ%00%ff HTTP/1.1\r\nHost: x\r\n\r\n", 0 },
        { "asterisk form", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 0 },
        { "unsupported HTTP version", "GET /health HTTP/1.7\r\nHost: x\r\n\r\n", 505 },
        { "HTTP/2 preface, then garbage", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + Garbage(), -1 },   // Kestrel answers in HTTP/2 (GOAWAY)
        { "upgrade to websocket", "GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 200 },   // no upgrade, plain GET
    };

    [Theory]
    [MemberData(nameof(Framing))]
    public async Task BrokenHttpGets4xxOrAClosedConnection(string what, string request, int expected)
    {
        using var c = await RawHttp.ConnectAsync(shared.Server.Host.Address);
        await c.SendAsync(Encoding.Latin1.GetBytes(request));
        if (expected == -1)
        {
            Assert.True(await c.ClosedWithinAsync(Wait), $"{what}: the connection stayed open");
            await AssertStillServing();
            return;
        }
        var response = await c.ReadResponseAsync(Wait);
        if (expected != 0)
            Assert.True(response?.Status == expected, $"{what}: expected {expected}, got {response?.Status.ToString() ?? "a closed connection"}: {response?.Text}");
        else
            Assert.True(response is null || response.Status is >= 400 and < 500 or 505, $"{what}: got {response?.Status}");
        await AssertStillServing();
    }

    /// <summary>Hostile JSON bodies: each must be a 400 whose JSON error names the problem.</summary>
    public static TheoryData<string, byte[], string> Bodies => new()
    {
        { "invalid UTF-8 in a string", Bytes("{\"input\":\"caf\u00ff\u00fe\",\"model\":\"mlm\"}", latin1: true), "not valid" },
        { "invalid UTF-8 in the model", Bytes("{\"input\":\"x\",\"model\":\"\u00c3\u0028\"}", latin1: true), "not valid" },
        { "lone high surrogate escape", Bytes("{\"input\":\"a\\ud800b\",\"model\":\"mlm\"}"), "'input' is not valid text" },
        { "lone low surrogate escape", Bytes("{\"input\":[\"ok\",\"\\udc00\"],\"model\":\"mlm\"}"), "'input[1]' is not valid text" },
        { "reversed surrogate pair", Bytes("{\"input\":\"\\udc00\\ud800\",\"model\":\"mlm\"}"), "not valid text" },
        { "surrogate in a property name", Bytes("{\"inpu\\ud800t\":\"x\",\"model\":\"mlm\"}"), "property name that is not valid text" },
        { "surrogate in the model name", Bytes("{\"input\":\"x\",\"model\":\"\\ud800\"}"), "'model' is not valid text" },
        { "UTF-16 body", Encoding.Unicode.GetBytes(Json), "not valid JSON" },
        { "deep nesting", Bytes("{\"input\":" + new string('[', 100_000) + new string(']', 100_000) + ",\"model\":\"mlm\"}"), "not valid JSON" },
        { "deep object nesting", Bytes(string.Concat(Enumerable.Repeat("{\"a\":", 50_000)) + "1" + new string('}', 50_000)), "not valid JSON" },
        { "huge number", Bytes("{\"input\":1" + new string('0', 100_000) + ",\"model\":\"mlm\"}"), "got a number" },
        { "huge exponent", Bytes("{\"input\":[1e999999999],\"model\":\"mlm\"}"), "token id arrays are not supported" },
        { "huge array", Bytes("{\"input\":[" + string.Join(",", Enumerable.Repeat("0", 300_000)) + "],\"model\":\"mlm\"}"), "has 300000 items; the limit is 256" },
        { "huge string", Bytes("{\"input\":\"" + new string('a', 500_000) + "\",\"model\":\"mlm\"}"), "is 500000 characters long" },
        { "truncated", Bytes(Json[..20]), "not valid JSON" },
        { "trailing garbage", Bytes(Json + "}}}"), "not valid JSON" },
        { "NaN literal", Bytes("{\"input\":NaN,\"model\":\"mlm\"}"), "not valid JSON" },
        { "comment", Bytes("{\"input\":\"x\" /* hi */,\"model\":\"mlm\"}"), "not valid JSON" },
        { "control character in string", Bytes("{\"input\":\"a\u0001b\",\"model\":\"mlm\"}"), "not valid JSON" },
        { "bad escape", Bytes("{\"input\":\"\\q\",\"model\":\"mlm\"}"), "not valid JSON" },
        { "short unicode escape", Bytes("{\"input\":\"\\u12\",\"model\":\"mlm\"}"), "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task HostileJsonGets400WithAMessage(string what, byte[] body, string message)
    {
        using var c = await RawHttp.ConnectAsync(shared.Server.Host.Address);
        var head = Encoding.ASCII.GetBytes($"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
        await c.SendAsync([.. head, .. body]);
        var response = await c.ReadResponseAsync(Wait);
        Assert.True(response?.Status == 400, $"{what}: expected 400, got {response?.Status}: {response?.Text}");
        var error = JsonDocument.Parse(response!.Body).RootElement.GetProperty("error");
        Assert.Contains(message, error.GetProperty("message").GetString());
        await AssertStillServing();
    }

    [Fact]
    public async Task OddButValidRequestsAreServed()
    {
        // HTTP/1.0: answered, then the connection closes (no keep-alive asked for).
        using (var c = await RawHttp.ConnectAsync(shared.Server.Host.Address))
        {
            await c.SendAsync($"POST /v1/embeddings HTTP/1.0\r\nContent-Length: {Json.Length}\r\n\r\n{Json}");
            Assert.Equal(200, (await c.ReadResponseAsync(Wait))!.Status);
            Assert.True(await c.ClosedWithinAsync(Wait));
        }
        // Pipelining: three requests in one write, three answers in order on one connection.
        using (var c = await RawHttp.ConnectAsync(shared.Server.Host.Address))
        {
            await c.SendAsync(RawHttp.Get("/health") + RawHttp.Post("/v1/embeddings", Json) + RawHttp.Post("/v1/embeddings", "{oops") + RawHttp.Get("/v1/models"));
            int[] statuses = new int[4];
            for (int i = 0; i < 4; i++) statuses[i] = (await c.ReadResponseAsync(Wait))!.Status;
            Assert.Equal([200, 200, 400, 200], statuses);
        }
        // Absolute-form target, Expect: 100-continue, a UTF-8 BOM and a wrong Content-Type are all fine.
        using (var c = await RawHttp.ConnectAsync(shared.Server.Host.Address))
        {
            await c.SendAsync($"GET http://localhost/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Assert.Equal(200, (await c.ReadResponseAsync(Wait))!.Status);
            await c.SendAsync($"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {Json.Length}\r\n\r\n");
            Assert.Equal(100, (await c.ReadResponseAsync(Wait))!.Status);
            await c.SendAsync(Json);
            Assert.Equal(200, (await c.ReadResponseAsync(Wait))!.Status);
            byte[] bom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Json)];
            await c.SendAsync([.. Encoding.ASCII.GetBytes($"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: {bom.Length}\r\n\r\n"), .. bom]);
            Assert.Equal(200, (await c.ReadResponseAsync(Wait))!.Status);
        }
        await AssertStillServing();
    }

    [Fact]
    public async Task ABodyShorterThanItsContentLengthGets400()
    {
        using var c = await RawHttp.ConnectAsync(shared.Server.Host.Address);
        await c.SendAsync($"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: {Json.Length + 50}\r\n\r\n{Json}");
        c.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);   // half-close: the rest never comes
        var response = await c.ReadResponseAsync(Wait);
        Assert.True(response is null || response.Status == 400, $"got {response?.Status}: {response?.Text}");
        await AssertStillServing();
    }

    /// <summary>The server answers on a fresh connection, and nothing so far was answered with a 5xx.</summary>
    private async Task AssertStillServing()
    {
        using var health = await shared.Server.Client.GetAsync("/health");
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        await ServeChecks.AssertNoServerErrors(shared.Server);
    }

    private static string Garbage()
    {
        var random = new Random(6);
        var bytes = new byte[300];
        random.NextBytes(bytes);
        return Encoding.Latin1.GetString(bytes) + "\r\n\r\n";
    }

    private static byte[] Bytes(string s, bool latin1 = false) => latin1 ? Encoding.Latin1.GetBytes(s) : Encoding.UTF8.GetBytes(s);
}
