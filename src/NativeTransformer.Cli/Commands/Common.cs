namespace NativeTransformer.Cli.Commands;

/// <summary>Options shared by the commands that load a model, and the helpers they use.</summary>
internal static class Common
{
    /// <summary>Inputs read per chunk when streaming lines: output of a chunk is written before the next is read.</summary>
    public const int DefaultChunkSize = 64;

    public static readonly OptionSpec Model = new("--model", "DIR", "Model folder (Hugging Face layout), or a hub id owner/name[@revision] (HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE). Default: the model built into ntr (" + EmbeddedModel.Name + ", SST-2 sentiment).");
    public static readonly OptionSpec Input = new("--input", "FILE", "Read input from FILE ('-' or absent: stdin).");
    public static readonly OptionSpec Jsonl = new("--jsonl", null, "Each input line is a JSON object {\"text\": ..., \"text_pair\": ...}.");
    public static readonly OptionSpec Threads = new("--threads", "N", "Worker threads for the forward pass (default: one per physical core).");
    public static readonly OptionSpec MaxLength = new("--max-length", "N", "Max tokens per input incl. special tokens; longer inputs are truncated.");
    public static readonly OptionSpec BatchSize = new("--batch-size", "N", "Inputs per forward pass (default 32).");

    public static readonly OptionSpec Int8 = new("--int8", null, "Dynamic int8: encoder Linear weights quantized per channel at load, activations per token.");

    public static readonly OptionSpec KeepLayers = new("--keep-layers", "LIST", "Run only these encoder layers, e.g. 0,1,3 (ascending; the others are never read).");
    public static readonly OptionSpec DropTop = new("--drop-top", "K", "Drop the top K encoder layers at load (keep layers 0..L-K-1).");

    public static readonly OptionSpec Sparse = new("--sparse", "MODE", "Sparse fp32 kernels for pruned weights: auto (default; only where measured faster), never, always.");

    public static readonly OptionSpec MaxMemory = new("--max-memory", "SIZE",
        "Refuse to load a model whose estimated peak memory exceeds SIZE, e.g. 512M, 2G, 1500MB (units K/M/G/T, with or without B or iB, are all powers of 1024). Checked before any weight is read.");

    public static readonly OptionSpec NoPackCache = new("--no-pack-cache", null, "Do not read or write the packed-weights cache (" + PackCacheEnv + "=0 does the same; " + PackCacheEnv + "=DIR moves it from ~/.cache/ntr/packed).");

    public static readonly OptionSpec PromptName = new("--prompt-name", "NAME",
        "Prepend the folder's prompt NAME (config_sentence_transformers.json \"prompts\") to every input, as sentence-transformers does; replaces default_prompt_name.");
    public static readonly OptionSpec Prompt = new("--prompt", "TEXT", "Prepend TEXT to every input (\"\" = no prompt, even over the folder's default_prompt_name).");

    /// <summary>--prompt-name / --prompt as the load's default prompt (they exclude each other).</summary>
    public static LoadOptions WithPrompt(ParsedArgs a, LoadOptions o)
    {
        if (a.Has("--prompt-name") && a.Has("--prompt"))
            throw new UsageException("options '--prompt-name' and '--prompt' exclude each other", a.Spec.Name);
        return o with { PromptName = a.Get("--prompt-name"), Prompt = a.Get("--prompt") };
    }

    public static readonly OptionSpec Overflow = new("--overflow", "MODE",
        "Inputs longer than the max length: truncate (default; the output line says \"truncated\": true), error (refuse), or window (overlapping windows, combined; docs/long-documents.md).");
    public static readonly OptionSpec Stride = new("--stride", "N", "With --overflow window: tokens shared by consecutive windows (default: min(128, half a window)).");

    /// <summary>--overflow / --stride into the load options (commands that accept them).</summary>
    public static LoadOptions WithOverflow(ParsedArgs a, LoadOptions o)
    {
        if (a.Choice("--overflow", OverflowModes.Names) is string mode) o = o with { Overflow = OverflowModes.Parse(mode) };
        if (a.Has("--stride"))
        {
            if (o.Overflow != OverflowMode.Window) throw new UsageException("option '--stride' needs '--overflow window'", a.Spec.Name);
            o = o with { OverflowStride = a.NonNegativeInt("--stride") };
        }
        return o;
    }

    public static readonly OptionSpec[] LoadOptionSpecs = [Threads, MaxLength, BatchSize, Int8, KeepLayers, DropTop, Sparse, MaxMemory, NoPackCache];

    /// <summary>Environment variable: 0 / off disables the packed-weights cache, an absolute path relocates it.</summary>
    public const string PackCacheEnv = "NTR_PACK_CACHE";

    /// <summary>The packed-weights cache folder for this run, or null when --no-pack-cache / NTR_PACK_CACHE=0 turns it off.</summary>
    public static string? PackCacheDirectory(ParsedArgs a)
    {
        if (a.Has("--no-pack-cache")) return null;
        string? env = Environment.GetEnvironmentVariable(PackCacheEnv);
        if (env is "0" or "off" or "false") return null;
        if (env is { Length: > 0 } && Path.IsPathRooted(env)) return env;
        return NativeTransformer.LoadOptions.DefaultPackedWeightsCache();
    }

    public const string TextHelp =
        "The input is TEXT when given (one text, e.g. ntr classify \"a gorgeous, witty movie\"), else the lines\n" +
        "of --input FILE or stdin.\n";

    public const string LineInputHelp =
        "Input: one text per line, strict UTF-8 (a line that is not UTF-8 is an error naming its line number).\n" +
        "A trailing \\r is stripped and a UTF-8 BOM at the start is skipped. An empty line is an empty text\n" +
        "(it still produces an output line); a final newline does not create an extra input.\n" +
        "With --jsonl every line must be a JSON object {\"text\": ..., \"text_pair\": ...} (text_pair optional);\n" +
        "other keys, other shapes and empty lines are errors naming the line.\n" +
        "Output: JSON Lines on stdout, one line per input, in input order; inputs are processed in chunks\n" +
        "of 64 lines (or --batch-size when larger) so large inputs stream with bounded memory.";

    /// <summary>The --model folder, checked to exist (a missing folder is an error before anything loads); a hub id
    /// owner/name[@revision] resolved into the Hugging Face cache; without --model, the folder of the model built into ntr.</summary>
    public static string ModelDir(ParsedArgs a, CliContext? ctx = null)
    {
        if (!a.Has("--model")) return EmbeddedModel.Directory();
        string dir = a.Required("--model");
        if (HubModels.LooksLikeHubId(dir, out var hubId)) return HubModels.Resolve(hubId!, ctx);
        if (!Directory.Exists(dir))
            throw new InputException(File.Exists(dir) ? $"{dir}: is a file, expected a model folder" : $"{dir}: model folder not found");
        return dir;
    }

    public static LoadOptions LoadOptions(ParsedArgs a)
    {
        var o = new LoadOptions { PackedWeightsCache = PackCacheDirectory(a) };
        if (a.PositiveInt("--threads") is int t) o = o with { Threads = t };
        if (a.PositiveInt("--max-length") is int m) o = o with { MaxLength = m };
        if (a.PositiveInt("--batch-size") is int b) o = o with { BatchSize = b };
        if (a.Has("--int8")) o = o with { Int8 = true };
        if (a.Get("--max-memory") is string size)
        {
            try { o = o with { MaxMemoryBytes = ByteSize.Parse(size) }; }
            catch (InputException e) { throw new UsageException($"option '--max-memory': {e.Message}", a.Spec.Name); }
        }
        if (a.Has("--keep-layers") && a.Has("--drop-top"))
            throw new UsageException("options '--keep-layers' and '--drop-top' cannot be combined", a.Spec.Name);
        if (a.Get("--keep-layers") is string keep)
        {
            try { o = o with { KeepLayers = Compression.LayerSelection.ParseList(keep) }; }
            catch (InputException e) { throw new UsageException($"option '--keep-layers': {e.Message}", a.Spec.Name); }
        }
        if (a.PositiveInt("--drop-top") is int k) o = o with { DropTopLayers = k };
        if (a.Get("--sparse") is string sparse)
            o = o with
            {
                SparseKernels = sparse switch
                {
                    "auto" => Kernels.SparseKernels.Auto,
                    "never" => Kernels.SparseKernels.Never,
                    "always" => Kernels.SparseKernels.Always,
                    _ => throw new UsageException($"option '--sparse': '{sparse}' is not one of auto, never, always", a.Spec.Name),
                },
            };
        return o;
    }

    /// <summary>"truncated": true when the input was cut, "windows": N when it ran in several windows; nothing otherwise
    /// (so lines of inputs that fit are unchanged).</summary>
    public static void WriteOverflow(System.Text.Json.Utf8JsonWriter w, bool truncated, int windows)
    {
        if (truncated) w.WriteBoolean("truncated", true);
        if (windows > 1) w.WriteNumber("windows", windows);
    }

    public static int ChunkSize(ParsedArgs a) => Math.Max(DefaultChunkSize, a.PositiveInt("--batch-size") ?? 0);

    /// <summary>Streams inputs from --input/stdin in chunks, calling <paramref name="process"/> per chunk and
    /// flushing stdout after each so output appears as it is produced.</summary>
    public static void StreamChunks(ParsedArgs a, CliContext ctx, Action<List<TextInput>> process, RecordRange? range = null)
    {
        using var reader = LineReader.Open(a.Get("--input"), ctx.Stdin);
        var chunker = new InputChunker(reader, a.Has("--jsonl"), range);
        var chunk = new List<TextInput>();
        int size = ChunkSize(a), linesBefore = checked((int)(range?.Start ?? 0));
        while (true)
        {
            // A bad line ends the run, but the good lines read before it are still processed and written.
            Exception? badLine = null;
            try { if (!chunker.ReadChunk(chunk, size)) break; }
            catch (Exception e) when (e is NativeTransformerException or IOException) { badLine = e; }
            if (chunk.Count > 0)
            {
                try { process(chunk); }
                catch (InputException e) when (e.InputIndex is int i && i < chunk.Count)
                {
                    // As for a bad line: the lines before the refused one are still written. The library counts inputs
                    // within the chunk; the user counts lines.
                    if (i > 0) { process(chunk.GetRange(0, i)); ctx.Stdout.Flush(); }
                    string own = $"input {i} ", message = e.Message.StartsWith(own, StringComparison.Ordinal) ? "the input " + e.Message[own.Length..] : e.Message;
                    throw new InputException($"line {linesBefore + i + 1}: {message}", e);
                }
                linesBefore += chunk.Count;
                ctx.Stdout.Flush();
            }
            if (badLine != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(badLine);
        }
    }

    /// <summary>Usage check for commands taking TEXT or --input: the inputs are TEXT (the positional argument) when
    /// given, else lines of --input/stdin; not both.</summary>
    public static void CheckTextOrInput(ParsedArgs a)
    {
        if (a.Positionals.Count > 0 && a.Has("--input"))
            throw new UsageException("give either TEXT or --input, not both", a.Spec.Name);
        if (a.Positionals.Count > 0 && a.Has("--jsonl"))
            throw new UsageException("options '--jsonl' and TEXT exclude each other (--jsonl describes --input/stdin lines)", a.Spec.Name);
        if (a.Positionals.Count > 0 && a.Has("--stream"))
            throw new UsageException("options '--stream' and TEXT exclude each other (--stream reads JSON Lines from stdin)", a.Spec.Name);
    }

    /// <summary>Like <see cref="StreamChunks"/>, but a positional TEXT is the one and only input.</summary>
    public static void TextOrChunks(ParsedArgs a, CliContext ctx, Action<List<TextInput>> process, RecordRange? range = null)
    {
        if (a.Positionals.Count > 0) process([new TextInput(a.Positionals[0])]);
        else StreamChunks(a, ctx, process, range);
    }

    /// <summary>Checks an --input file exists before the model loads (stdin needs no check).</summary>
    public static void CheckInputFile(string? path)
    {
        if (path is null or "-") return;
        LineReader.OpenFile(path).Dispose();
    }
}
