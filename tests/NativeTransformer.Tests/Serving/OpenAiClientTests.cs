using System.Diagnostics;
using System.Text;
using System.Text.Json;
using NativeTransformer.Cli;
using NativeTransformer.Cli.Commands;
using NativeTransformer.Serving;
using NativeTransformer.Tests.Deploy;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Serving;

/// <summary>The real <c>openai</c> npm client (pinned <see cref="OpenAiNpmClient.Version"/>, run by node) against
/// <c>ntr serve</c> on loopback: its default request (it asks for base64 and decodes the float32 bytes itself), an explicit
/// <c>encoding_format: "float"</c>, <c>dimensions</c> above the model's size (its <c>BadRequestError</c>), and with
/// <c>--api-key</c> the matching key and a wrong one (its <c>AuthenticationError</c>). The vectors must equal the library's
/// own <see cref="TransformerModel.Embed(IReadOnlyList{string})"/> cut to 64 dimensions and L2-normalised again, within 1e-6.
/// Skips, saying why, when node or npm is not installed or the npm registry cannot be reached; any other failure fails.</summary>
public class OpenAiClientTests(OpenAiNpmClient npm, ITestOutputHelper output) : IClassFixture<OpenAiNpmClient>
{
    private const string Model = "mlm";
    private const int Dimensions = 64;
    private const string Key = "sk-ntr-test-4d2a";
    private static readonly string[] Texts = ["a gorgeous , witty , seductive movie .", "dull"];

    [SkippableFact]
    public async Task EmbeddingsFromTheOpenAiNodeClientMatchTheLibrary()
    {
        npm.SkipOrFail();
        await using var host = await StartServeAsync(apiKey: null);
        var (result, expected, size) = await RunScriptAsync(host, clientKey: "x", wrongKey: null);
        CheckEmbeddings(result, expected, size);
    }

    [SkippableFact]
    public async Task WithApiKeyTheClientsKeyWorksAndAWrongOneIsAnAuthenticationError()
    {
        npm.SkipOrFail();
        await using var host = await StartServeAsync(apiKey: Key);
        var (result, expected, size) = await RunScriptAsync(host, clientKey: Key, wrongKey: "sk-wrong");
        CheckEmbeddings(result, expected, size);

        var wrong = result.GetProperty("wrongKey");
        Assert.True(wrong.GetProperty("threw").GetBoolean(), "a wrong key must make the client throw: " + wrong);
        Assert.Equal("AuthenticationError", wrong.GetProperty("name").GetString());
        Assert.True(wrong.GetProperty("authentication").GetBoolean(), "instanceof AuthenticationError: " + wrong);
        Assert.Equal(401, wrong.GetProperty("status").GetInt32());
        Assert.DoesNotContain(Key, wrong.GetProperty("message").GetString());
    }

    /// <summary>The vectors of the default (base64) and float requests, the 400 for dimensions above the model's size.</summary>
    private static void CheckEmbeddings(JsonElement result, float[][] expected, int size)
    {
        Assert.Equal(OpenAiNpmClient.Version, result.GetProperty("client").GetString());
        // On the wire: the default request asked for base64 and got strings, the explicit one asked for float and got arrays.
        var wire = result.GetProperty("wire").EnumerateArray().ToArray();
        Assert.True(wire.Length >= 3, "requests seen: " + result.GetProperty("wire"));
        Assert.Equal(("base64", 200, "string"), (wire[0].GetProperty("encoding_format").GetString(), wire[0].GetProperty("status").GetInt32(), wire[0].GetProperty("answered").GetString()));
        Assert.Equal(("float", 200, "object"), (wire[1].GetProperty("encoding_format").GetString(), wire[1].GetProperty("status").GetInt32(), wire[1].GetProperty("answered").GetString()));
        Assert.Equal(400, wire[2].GetProperty("status").GetInt32());
        var base64 = Vectors(result.GetProperty("base64"), "base64", decodedByClient: true);
        var floats = Vectors(result.GetProperty("float"), "float", decodedByClient: false);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(Dimensions, base64[i].Length);
            Assert.Equal(Dimensions, floats[i].Length);
            for (int d = 0; d < Dimensions; d++)
            {
                Assert.True(Math.Abs(base64[i][d] - expected[i][d]) <= 1e-6, $"base64 text {i} dim {d}: {base64[i][d]} vs library {expected[i][d]}");
                Assert.True(Math.Abs(floats[i][d] - expected[i][d]) <= 1e-6, $"float text {i} dim {d}: {floats[i][d]} vs library {expected[i][d]}");
                // The float JSON numbers are the shortest round-trip text of the same float32s the base64 bytes hold.
                Assert.Equal(base64[i][d], (float)floats[i][d]);
            }
            double norm = Math.Sqrt(base64[i].Sum(x => x * x));
            Assert.True(Math.Abs(norm - 1) <= 1e-6, $"text {i}: norm {norm} after truncation");
        }

        var tooBig = result.GetProperty("tooBig");
        Assert.True(tooBig.GetProperty("threw").GetBoolean(), $"dimensions {size + 1} must make the client throw: " + tooBig);
        Assert.Equal("BadRequestError", tooBig.GetProperty("name").GetString());
        Assert.True(tooBig.GetProperty("badRequest").GetBoolean(), "instanceof BadRequestError: " + tooBig);
        Assert.Equal(400, tooBig.GetProperty("status").GetInt32());
        Assert.Contains($"'dimensions' is {size + 1} but model '{Model}' makes embeddings of {size} dimensions", tooBig.GetProperty("message").GetString());
    }

    /// <summary>The response as the client handed it to the script: list object, model, usage, one entry per text in order.</summary>
    private static double[][] Vectors(JsonElement response, string what, bool decodedByClient)
    {
        Assert.Equal("list", response.GetProperty("object").GetString());
        Assert.Equal(Model, response.GetProperty("model").GetString());
        Assert.True(response.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0, what + ": usage.prompt_tokens");
        var data = response.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(Texts.Length, data.Length);
        var vectors = new double[data.Length][];
        for (int i = 0; i < data.Length; i++)
        {
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            Assert.Equal("embedding", data[i].GetProperty("object").GetString());
            // The default request's embedding arrives as a base64 string; the client must have turned it into numbers.
            Assert.True(data[i].GetProperty("isArray").GetBoolean(), $"{what} {i}: the client left the embedding as {data[i].GetProperty("type")}"
                + (decodedByClient ? " (it did not decode the base64)" : ""));
            vectors[i] = data[i].GetProperty("embedding").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        }
        return vectors;
    }

    /// <summary>Runs the client script against <paramref name="host"/>; also returns the library's expected vectors
    /// (Embed, first 64 floats, L2-normalised in double) and the model's embedding size.</summary>
    private async Task<(JsonElement Result, float[][] Expected, int Size)> RunScriptAsync(ServeHost host, string clientKey, string? wrongKey)
    {
        using var model = TransformerModel.Load(TestServer.MlmDir, new LoadOptions { Threads = 1 });
        var expected = model.Embed(Texts).Select(v =>
        {
            var head = v.AsSpan(0, Dimensions).ToArray();
            double norm = Math.Sqrt(head.Sum(x => (double)x * x));
            return head.Select(x => (float)(x / norm)).ToArray();
        }).ToArray();
        string config = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["baseURL"] = $"http://127.0.0.1:{host.Address.Port}/v1", ["apiKey"] = clientKey, ["model"] = Model, ["texts"] = Texts,
            ["dimensions"] = Dimensions, ["tooBig"] = model.EmbeddingSize + 1, ["wrongKey"] = wrongKey,
        });
        var sw = Stopwatch.StartNew();
        var (code, stdout, stderr) = await npm.RunNodeAsync(config);
        output.WriteLine($"node {sw.ElapsedMilliseconds} ms (npm install {npm.InstallTime.TotalMilliseconds:F0} ms, once per class); stderr: {stderr}");
        Assert.True(code == 0, $"the client script exited {code}\nstdout: {stdout}\nstderr: {stderr}");
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        output.WriteLine(last.Length > 600 ? last[..600] + "…" : last);
        return (JsonDocument.Parse(last).RootElement.Clone(), expected, model.EmbeddingSize);
    }

    /// <summary><c>ntr serve --model mlm=DIR --host 127.0.0.1 --port 0 --threads 1 --no-warm-up [--api-key KEY]</c>, its
    /// command line parsed as the CLI does and the server run in process.</summary>
    private static async Task<ServeHost> StartServeAsync(string? apiKey)
    {
        string[] args = ["--model", Model + "=" + TestServer.MlmDir, "--host", "127.0.0.1", "--port", "0", "--threads", "1", "--no-warm-up",
            .. apiKey is null ? Array.Empty<string>() : ["--api-key", apiKey]];
        var (models, rest) = ServeCommand.ExtractModels(args);
        var options = ServeCommand.Options(ParsedArgs.Parse(ServeCommand.Spec, rest), models);
        if (apiKey is null) options = options with { ApiKey = null };   // an NTR_API_KEY in the test's environment must not close it
        var host = ServeHost.Create(options with { ShutdownTimeout = TimeSpan.FromSeconds(10) });
        await host.StartAsync();
        return host;
    }
}

/// <summary>The pinned <c>openai</c> npm package installed once per test class into a temp folder (npm install, bounded),
/// and a bounded runner for the client script written beside it. Node or npm missing, or an install that fails because
/// no registry answers, become a skip reason; any other install failure is kept and fails the tests.</summary>
public sealed class OpenAiNpmClient : IDisposable
{
    public const string Version = "7.60.0";
    private const int InstallTimeoutMs = 180_000, ScriptTimeoutMs = 60_000;

    private readonly string? _skip, _failure;
    private readonly string _dir = Directory.CreateTempSubdirectory("ntr-openai-npm-").FullName;
    public TimeSpan InstallTime { get; }

    public OpenAiNpmClient()
    {
        // As ExternalTool.SkipReason, but Debian's package for node is nodejs.
        var missing = new[] { "node", "npm" }.Where(t => ExternalTool.Find(t) is null).ToArray();
        if (missing.Length > 0)
        {
            _skip = $"{string.Join(" and ", missing)} not installed (Debian: apt-get install -y nodejs npm); this check was NOT run";
            return;
        }
        // Its own package.json, so npm installs here and not into a package.json found further up.
        File.WriteAllText(Path.Combine(_dir, "package.json"), "{\"name\":\"ntr-openai-client-test\",\"private\":true}\n");
        File.WriteAllText(Path.Combine(_dir, "client.cjs"), Script, new UTF8Encoding(false));
        var sw = Stopwatch.StartNew();
        var (code, stdout, stderr) = Run("npm", InstallTimeoutMs, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-update-notifier",
            "openai@" + Version);
        InstallTime = sw.Elapsed;
        string log = $"npm install openai@{Version} exited {code} after {sw.ElapsedMilliseconds} ms\n{stdout}\n{stderr}";
        if (code == 0)
        {
            string installed = Path.Combine(_dir, "node_modules", "openai", "package.json");
            if (!File.Exists(installed)) _failure = log + "\nbut node_modules/openai/package.json is missing";
            else if (JsonDocument.Parse(File.ReadAllText(installed)).RootElement.GetProperty("version").GetString() != Version)
                _failure = log + "\nbut it installed another version";
        }
        else if (NoRegistry(stdout + stderr))
            _skip = $"the npm registry could not be reached, so openai@{Version} was not installed; this check was NOT run ({FirstErrorLine(stderr)})";
        else
            _failure = log;
    }

    /// <summary>Skips the calling [SkippableFact] with the reason, or fails it with the install's log.</summary>
    public void SkipOrFail()
    {
        Skip.If(_skip is not null, _skip);
        Assert.True(_failure is null, _failure);
    }

    public Task<(int ExitCode, string Stdout, string Stderr)> RunNodeAsync(string configJson) =>
        Task.Run(() => Run("node", ScriptTimeoutMs, "client.cjs", configJson));

    /// <summary>npm's codes for a registry it cannot reach (DNS, refused, unreachable, timed out) and its proxy errors.</summary>
    private static bool NoRegistry(string log) =>
        new[] { "ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET", "ERR_SOCKET_TIMEOUT", "network request to" }
            .Any(s => log.Contains(s, StringComparison.Ordinal));

    private static string FirstErrorLine(string stderr) =>
        stderr.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("npm error", StringComparison.Ordinal) || l.StartsWith("npm ERR!", StringComparison.Ordinal)) ?? "no npm error line";

    private (int, string, string) Run(string tool, int timeoutMs, params string[] args)
    {
        var psi = new ProcessStartInfo(ExternalTool.Find(tool)!, args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dir,
        };
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(5000);
            return (-1, stdout.IsCompleted ? stdout.Result : "", $"{tool} {string.Join(' ', args.Take(2))} did not finish within {timeoutMs} ms, killed");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>The client script: argv[2] is its JSON config. Prints one JSON line: the client's version, the default
    /// (base64, decoded by the client) and float responses, and the errors thrown for dimensions above the model's
    /// size and, when given, a wrong key.</summary>
    private const string Script = """
        "use strict";
        const fs = require("fs");
        const path = require("path");
        const { OpenAI, BadRequestError, AuthenticationError } = require("openai");
        const cfg = JSON.parse(process.argv[2]);

        function summary(r) {
          return {
            object: r.object, model: r.model, usage: r.usage,
            data: r.data.map(d => ({
              object: d.object, index: d.index, isArray: Array.isArray(d.embedding), type: typeof d.embedding,
              embedding: Array.isArray(d.embedding) ? d.embedding : [],
            })),
          };
        }

        async function expectError(call) {
          try {
            const r = await call();
            return { threw: false, result: r };
          } catch (e) {
            return {
              threw: true, name: e.constructor.name, status: e.status ?? null, message: String(e.message),
              badRequest: e instanceof BadRequestError, authentication: e instanceof AuthenticationError,
            };
          }
        }

        // What went over the wire: each request's encoding_format and the type of the first embedding in its answer.
        const wire = [];
        async function spyFetch(url, init) {
          const sent = JSON.parse(init.body);
          const res = await fetch(url, init);
          let answered = null;
          if (res.ok) answered = typeof JSON.parse(await res.clone().text()).data[0].embedding;
          wire.push({ encoding_format: sent.encoding_format ?? null, status: res.status, answered });
          return res;
        }

        async function main() {
          const client = new OpenAI({ baseURL: cfg.baseURL, apiKey: cfg.apiKey, maxRetries: 0, timeout: 30000, fetch: spyFetch });
          const out = {
            client: JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", "openai", "package.json"), "utf8")).version,
            node: process.version,
          };
          // No encoding_format: the client asks for base64 and decodes the float32 bytes itself.
          out.base64 = summary(await client.embeddings.create({ model: cfg.model, input: cfg.texts, dimensions: cfg.dimensions }));
          out.float = summary(await client.embeddings.create({ model: cfg.model, input: cfg.texts, dimensions: cfg.dimensions, encoding_format: "float" }));
          out.tooBig = await expectError(() => client.embeddings.create({ model: cfg.model, input: cfg.texts, dimensions: cfg.tooBig }));
          if (cfg.wrongKey) {
            const wrong = new OpenAI({ baseURL: cfg.baseURL, apiKey: cfg.wrongKey, maxRetries: 0, timeout: 30000 });
            out.wrongKey = await expectError(() => wrong.embeddings.create({ model: cfg.model, input: cfg.texts }));
          }
          out.wire = wire;
          process.stdout.write(JSON.stringify(out) + "\n");
        }

        main().catch(e => { console.error(e && e.stack ? e.stack : String(e)); process.exit(1); });
        """;
}
