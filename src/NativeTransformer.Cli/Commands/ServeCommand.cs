using System.Globalization;
using NativeTransformer.Serving;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr serve</c>: the HTTP server of NativeTransformer.Serving, configured from the command line.</summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    public static readonly CommandSpec Spec = new(
        Name,
        "Serve models over HTTP: OpenAI-style /v1/embeddings, /v1/classify, /v1/rerank, /v1/models, /health, /metrics.",
        "ntr serve [--model NAME=DIR [--model NAME=DIR ...]] [--host ADDR] [--port N] [options]",
        [new("--model", "NAME=DIR", "A model to serve under NAME (repeatable; DIR alone uses the folder name; DIR may be a hub id owner/name[@rev]). Loaded on first use. Default: the model built into ntr."),
         new("--host", "ADDR", "Address to listen on: an IP, localhost, or * for all interfaces (default 127.0.0.1)."),
         new("--port", "N", "TCP port (default 8080; 0 picks a free port)."),
         new("--max-batch", "N", "Most inputs per forward pass; requests are merged up to this (default 32)."),
         new("--max-wait-ms", "MS", "How long a batch waits for more requests after its first (default 5)."),
         new("--max-concurrency", "N", "Batches computed at once, all models together (default 1)."),
         new("--max-queue", "N", "Requests waiting for a batch; beyond it: 429 with Retry-After (default 256)."),
         new("--max-connections", "N", "Open connections at most; more are closed at once without an answer (default 4096)."),
         new("--max-body-bytes", "N", "Largest request body; beyond it: 413 (default 1048576)."),
         new("--max-inputs", "N", "Most inputs in one request (default 256)."),
         new("--max-text-chars", "N", "Longest input text in characters (default 20000)."),
         new("--timeout-ms", "MS", "Per-request deadline incl. queueing and loading; beyond it: 504 (default 30000)."),
         new("--cache", "N", "LRU result cache entries, keyed by model, task and text (default 1024; 0 = off)."),
         new("--idle-unload", "SECONDS", "Unload a model after this many seconds without requests (default: never)."),
         new("--prompt-name", "NAME", "Default prompt of /v1/embeddings requests that name none: the prompt NAME of each served folder's config_sentence_transformers.json (every model must define it)."),
         new("--prompt", "TEXT", "Default prompt text of /v1/embeddings requests that name none (\"\" = none, even over a folder's default_prompt_name)."),
         new("--api-key", "KEY", "Require 'Authorization: Bearer KEY' on every route except /health, /ready and /metrics (401 otherwise). Default: env NTR_API_KEY; unset = open."),
         new("--no-warm-up", null, "Do not load and run every model at start (then /ready answers 200 at once and models load on first use)."),
         Common.Threads, Common.MaxLength, Common.Int8, Common.KeepLayers, Common.DropTop, Common.Sparse, Common.NoPackCache,
         new("--max-memory", "SIZE", "Memory budget for the whole server, e.g. 2G: refuse to start when the estimated peak of ALL models loaded at once (each with --max-concurrency activation buffers of --max-batch × max length) plus the runtime exceeds it. Units as for the other commands.")],
        Details:
            "Endpoints:\n" +
            "  POST /v1/embeddings          {\"input\": \"text\" | [\"text\", ...], \"model\": NAME, \"encoding_format\": \"float\"|\"base64\",\n" +
            "                                \"prompt_name\": NAME | \"prompt\": TEXT}   (optional: the sentence-transformers prompt)\n" +
            "  POST /v1/classify            {\"input\": \"text\" | [\"text\", ...], \"model\": NAME}\n" +
            "  POST /v1/rerank              {\"model\": NAME, \"query\": TEXT, \"documents\": [TEXT, ...], \"top_n\": K,\n" +
            "                                \"return_documents\": BOOL}   (a cross-encoder: results best first)\n" +
            "  GET  /v1/models              served models, loaded or not\n" +
            "  POST /v1/models/NAME/load    load now;  POST /v1/models/NAME/unload  free its memory\n" +
            "  GET  /health, GET /metrics   liveness; Prometheus text\n" +
            "  GET  /ready                  200 after warm-up (one forward pass per model), 503 before\n" +
            "  TEI-compatible: POST /embed, /predict, /rerank, /similarity, /tokenize; GET /info, GET /openapi.json\n" +
            "Errors are JSON {\"error\": {\"message\", \"type\"}}: 400 bad request, 404 unknown model or path, 405 wrong\n" +
            "method, 413 body too large, 429 queue full (Retry-After), 504 timeout. SIGTERM / Ctrl-C stop accepting\n" +
            "connections and finish the requests in flight.");

    /// <summary>Runs <c>ntr serve</c>. Takes the raw words because --model may be repeated, which the shared parser refuses.</summary>
    public static int Run(string[] args, CliContext ctx)
    {
        var (models, rest) = ExtractModels(args);
        var a = ParsedArgs.Parse(Spec, rest);
        if (a.HelpRequested)
        {
            ctx.Stdout.Write(Spec.HelpText());
            return CliApp.ExitOk;
        }
        var options = Options(a, models);
        var host = ServeHost.Create(options);
        try
        {
            host.StartAsync().GetAwaiter().GetResult();
            ctx.Stderr.Write($"ntr serve: listening on {host.Address} (models: {string.Join(", ", options.Models.Keys)}); Ctrl-C to stop\n");
            ctx.Stderr.Flush();
            host.WaitForShutdownAsync().GetAwaiter().GetResult();
        }
        finally { host.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        ctx.Stderr.Write("ntr serve: stopped\n");
        return CliApp.ExitOk;
    }

    internal static ServeOptions Options(ParsedArgs a, IReadOnlyList<string> modelArgs)
    {
        // No --model: the model built into ntr, under its own name (as every other command defaults to it).
        if (modelArgs.Count == 0) modelArgs = [EmbeddedModel.Name + "=" + EmbeddedModel.Directory()];
        var models = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in modelArgs)
        {
            int eq = m.IndexOf('=');
            string dir = eq < 0 ? m : m[(eq + 1)..];
            string name = eq < 0 ? Path.GetFileName(Path.TrimEndingDirectorySeparator(dir)) : m[..eq];
            if (name.Length == 0 || dir.Length == 0) throw new UsageException($"option '--model' needs NAME=DIR, got '{m}'", Name);
            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                throw new UsageException($"model name '{name}' may only use letters, digits, '-', '_' and '.'", Name);
            if (models.ContainsKey(name)) throw new UsageException($"model name '{name}' is given twice", Name);
            // A hub id (owner/name[@rev]) is fetched into the Hugging Face cache before the server starts.
            if (!Directory.Exists(dir) && !File.Exists(dir) && HubModels.LooksLikeHubId(dir, out var hubId)) dir = HubModels.Resolve(hubId!, null);
            if (!Directory.Exists(dir)) throw new InputException(File.Exists(dir) ? $"{dir}: is a file, expected a model folder" : $"{dir}: model folder not found");
            models[name] = dir;
        }
        var o = new ServeOptions { Models = models, LoadOptions = Common.WithPrompt(a, Common.LoadOptions(a)) };
        // Models load on first use: a prompt name a folder lacks is refused now, not at its first request.
        if (o.LoadOptions.PromptName is { } promptName)
            foreach (var (name, dir) in models)
            {
                try { NativeTransformer.Models.SentencePrompts.Load(dir).Resolve(promptName, null, ""); }
                catch (InputException e) { throw new InputException($"model '{name}' ({dir}): {e.Message}"); }
            }
        string? key = a.Get("--api-key") ?? Environment.GetEnvironmentVariable("NTR_API_KEY");
        if (!string.IsNullOrEmpty(key)) o = o with { ApiKey = new ApiKey(key) };
        o = o with { WarmUp = !a.Has("--no-warm-up") };
        if (a.Get("--host") is string host) o = o with { Host = host };
        if (a.Get("--port") is string) o = o with { Port = Port(a) };
        if (a.PositiveInt("--max-batch") is int mb) o = o with { MaxBatch = mb };
        if (a.Has("--max-wait-ms")) o = o with { MaxWaitMs = a.NonNegativeInt("--max-wait-ms") };
        if (a.PositiveInt("--max-concurrency") is int mc) o = o with { MaxConcurrency = mc };
        if (a.PositiveInt("--max-queue") is int mq) o = o with { MaxQueue = mq };
        if (a.PositiveInt("--max-connections") is int conns) o = o with { MaxConnections = conns };
        if (a.PositiveInt("--max-body-bytes") is int bytes) o = o with { MaxBodyBytes = bytes };
        if (a.PositiveInt("--max-inputs") is int mi) o = o with { MaxInputs = mi };
        if (a.PositiveInt("--max-text-chars") is int chars) o = o with { MaxTextChars = chars };
        if (a.PositiveInt("--timeout-ms") is int t) o = o with { TimeoutMs = t };
        if (a.Has("--cache")) o = o with { CacheEntries = a.NonNegativeInt("--cache") };
        if (a.PositiveInt("--idle-unload") is int idle) o = o with { IdleUnload = TimeSpan.FromSeconds(idle) };
        try { o.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message, Name); }
        if (o.LoadOptions.MaxMemoryBytes is long budget) CheckBudget(o, budget);
        return o;
    }

    /// <summary>The budget is for the process: models load on first use and may all be loaded at once, each keeping up to
    /// --max-concurrency run states (batches of --max-batch), so the worst case is their sum plus one runtime baseline.
    /// Checked from headers before the server starts.</summary>
    private static void CheckBudget(ServeOptions o, long budget)
    {
        var load = o.LoadOptions with { BatchSize = Math.Max(o.LoadOptions.BatchSize, o.MaxBatch), MaxMemoryBytes = null };
        // Loops, not LINQ over tuples: each generic instantiation over a struct costs tens of KB in the AOT binary.
        MemoryEstimate? first = null;
        var parts = new List<MemoryPart>();
        foreach (var (name, dir) in o.Models)
        {
            var estimate = TransformerModel.EstimateMemory(dir, load, o.MaxConcurrency);
            first ??= estimate;
            foreach (var p in estimate.Parts) parts.Add(p with { Name = $"{name} {p.Name}" });
        }
        var total = first! with { Parts = parts.ToArray(), RunStates = o.MaxConcurrency };
        if (total.TotalBytes > budget)
            throw new MemoryBudgetException($"ntr serve ({o.Models.Count} model(s), all loaded at once)", total, budget, load);
    }

    private static int Port(ParsedArgs a)
    {
        string v = a.Get("--port")!;
        if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p > 65535)
            throw new UsageException($"option '--port' needs a port number 0..65535, got '{v}'", Name);
        return p;
    }

    /// <summary>Splits the --model values (as '--model X' or '--model=X') from the other words.</summary>
    internal static (List<string> Models, List<string> Others) ExtractModels(string[] args)
    {
        var models = new List<string>();
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string w = args[i];
            if (w == "--") { rest.AddRange(args.AsSpan(i).ToArray()); break; }
            if (w.StartsWith("--model=", StringComparison.Ordinal)) { models.Add(w["--model=".Length..]); continue; }
            if (w == "--model")
            {
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new UsageException("option '--model' needs a value (NAME=DIR)", Name);
                models.Add(args[++i]);
                continue;
            }
            rest.Add(w);
        }
        return (models, rest);
    }
}
