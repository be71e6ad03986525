using System.Diagnostics;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr bench</c>: end-to-end encoder latency on random token ids, with its context (CPU, ISA, threads, shapes, memory).</summary>
internal static class BenchCommand
{
    public const string Name = "bench";

    private static readonly OptionSpec Batch = new("--batch", "B", "Sequences per forward pass (default 1).");
    private static readonly OptionSpec Seq = new("--seq", "S", "Tokens per sequence incl. [CLS]/[SEP] (default 128).");
    private static readonly OptionSpec Warmup = new("--warmup", "N", "Untimed warm-up passes (default: at least 3 and 1 s, at most 1000).");
    private static readonly OptionSpec Iterations = new("--iterations", "N", "Timed passes (default: at least 10 and 2 s, at most 1000).");
    private static readonly OptionSpec Json = new("--json", null, "Print one JSON object instead of text.");
    private static readonly OptionSpec Tokenizer = new("--tokenizer", null, "Time the tokenizer instead of the encoder: full Encode of every sentence of --input, one thread.");

    public static readonly CommandSpec Spec = new(
        Name,
        "Time the encoder forward pass on random token ids (fixed seed, full attention mask).",
        "ntr bench [--model DIR|OWNER/NAME] [--batch B] [--seq S] [--threads T] [--int8] [--keep-layers LIST | --drop-top K] [--sparse auto|never|always] [--max-memory SIZE] [--no-pack-cache] [--warmup N] [--iterations N] [--json]\n" +
        "       ntr bench --tokenizer --input FILE [--model DIR|OWNER/NAME] [--warmup N] [--iterations N] [--json]",
        [Common.Model, Tokenizer, Common.Input, Batch, Seq, Common.Threads, Common.Int8, Common.KeepLayers, Common.DropTop, Common.Sparse, Common.MaxMemory, Common.NoPackCache, Warmup, Iterations, Json],
        Details:
            "Prints CPU, kernel ISA, threads, batch, sequence length, warm-up, p50/p90 latency, sequences/s and\n" +
            "peak RSS. With --json one object on stdout: {\"p50_ms\", \"p90_ms\", \"seq_per_s\", \"peak_rss_mb\", \"isa\",\n" +
            "\"threads\", \"batch\", \"seq\", \"int8\", ...}. Only the encoder runs (no tokenizer, no heads).\n\n" +
            "With --tokenizer: the model folder's tokenizer alone (no weights read) encodes every sentence of --input\n" +
            "([CLS]/[SEP], type ids, offsets, as 'ntr tokenize'), on one thread; --warmup passes over the file (default 1)\n" +
            "untimed, then --iterations timed passes (default: at least 3 and 2 s); the median pass is reported.\n" +
            "--input: one sentence per line, or a GLUE TSV whose header has a 'sentence' column (only that column\n" +
            "is read). With --json: {\"sentences_per_s\", \"tokens_per_s\", \"threads\", \"sentences\", \"passes\", ...}.");

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        if (a.Has("--tokenizer")) return TokenizerBench.Run(a, ctx);
        if (a.Has("--input")) throw new UsageException("option '--input' needs --tokenizer (the encoder bench runs on random ids)", Name);
        string dir = Common.ModelDir(a, ctx);
        int batch = a.PositiveInt("--batch") ?? 1, seq = a.PositiveInt("--seq") ?? 128;
        int? warmupPasses = a.Has("--warmup") ? a.NonNegativeInt("--warmup") : null;
        int? iterations = a.PositiveInt("--iterations");
        if (seq < 2) throw new UsageException("--seq must be at least 2 ([CLS] and [SEP])", Name);
        var options = Common.LoadOptions(a) with { BatchSize = batch, MaxLength = seq };

        var loadWatch = Stopwatch.StartNew();
        using var model = TransformerModel.Load(dir, options);
        loadWatch.Stop();
        if (seq > model.Config.MaxSequenceLength)
            throw new UsageException($"--seq {seq} exceeds the model's maximum sequence length ({model.Config.MaxSequenceLength})", Name);
        var input = RandomBatch(model, batch, seq);

        // By default warm up for a second as well as 3 passes: under the JIT, methods called once per pass reach
        // tier 1 only after 30 calls, and the background recompilation takes a core from a 2-thread pass; with 3
        // passes alone the first timed passes of real all-MiniLM-L6-v2 ran at 1-thread speed (p90 39 vs p50 21 ms).
        int warmup = 0;
        var warmWatch = Stopwatch.StartNew();
        while (Passes.More(warmup, warmupPasses, minimum: 3, seconds: 1, warmWatch))
        {
            model.Forward(input);
            warmup++;
        }
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (Passes.More(times.Count, iterations, minimum: 10, seconds: 2, total))
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Forward(input);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        times.Sort();
        double p50 = Percentile(times, 0.5), p90 = Percentile(times, 0.9), mean = times.Average();
        double seqPerSecond = batch * 1000.0 / mean;
        double rssMb = PeakRssBytes() / (1024.0 * 1024.0);
        string cpu = CpuModel();

        if (a.Has("--json"))
        {
            var json = new JsonLineWriter(ctx.Stdout);
            var w = json.Begin();
            w.WriteStartObject();
            w.WriteNumber("p50_ms", Math.Round(p50, 3));
            w.WriteNumber("p90_ms", Math.Round(p90, 3));
            w.WriteNumber("seq_per_s", Math.Round(seqPerSecond, 2));
            w.WriteNumber("peak_rss_mb", Math.Round(rssMb, 1));
            w.WriteString("isa", model.KernelDescription);
            w.WriteNumber("threads", model.Threads);
            w.WriteNumber("batch", batch);
            w.WriteNumber("seq", seq);
            w.WriteBoolean("int8", options.Int8);
            w.WriteString("cpu", cpu);
            w.WriteNumber("cores", Environment.ProcessorCount);
            w.WriteNumber("warmup", warmup);
            w.WriteNumber("iterations", times.Count);
            w.WriteNumber("mean_ms", Math.Round(mean, 3));
            w.WriteNumber("min_ms", Math.Round(times[0], 3));
            w.WriteNumber("load_ms", Math.Round(loadWatch.Elapsed.TotalMilliseconds, 1));
            w.WriteString("model", Path.GetFullPath(dir));
            w.WriteString("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
            w.WriteEndObject();
            json.End();
        }
        else
        {
            var o = ctx.Stdout;
            o.Write($"model:       {Path.GetFullPath(dir)} ({model.Config.Architecture}, {model.Config.NumLayers} layers, hidden {model.Config.HiddenSize})\n");
            o.Write($"cpu:         {cpu} ({Environment.ProcessorCount} logical cores)\n");
            o.Write($"kernels:     {model.KernelDescription}\n");
            o.Write($"runtime:     {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}\n");
            o.Write($"threads:     {model.Threads}\n");
            o.Write($"shape:       batch {batch} × seq {seq}, precision {(options.Int8 ? "int8 (dynamic)" : "fp32")}\n");
            o.Write($"load:        {loadWatch.Elapsed.TotalMilliseconds:F1} ms\n");
            o.Write($"iterations:  {warmup} warm-up, {times.Count} timed\n");
            o.Write($"latency:     p50 {p50:F2} ms, p90 {p90:F2} ms (min {times[0]:F2}, mean {mean:F2})\n");
            o.Write($"throughput:  {seqPerSecond:F1} sequences/s\n");
            o.Write($"peak RSS:    {rssMb:F1} MB\n");
        }
        return CliApp.ExitOk;
    }

    /// <summary>[CLS] + random ordinary word-piece ids (fixed seed) + [SEP], every position attended.</summary>
    private static EncodedBatch RandomBatch(TransformerModel model, int batch, int seq)
    {
        var rng = new Random(42);
        int vocab = model.Tokenizer.VocabSize, low = Math.Min(1000, vocab - 1);
        var specials = model.Tokenizer.Encode(""); // the post-processor's first and last special tokens ([CLS] … [SEP], <s> … </s>)
        var rows = new Encoding[batch];
        for (int b = 0; b < batch; b++)
        {
            var ids = new int[seq];
            for (int i = 1; i < seq - 1; i++) ids[i] = rng.Next(low, vocab);
            ids[0] = specials.Ids[0]; ids[^1] = specials.Ids[^1];
            rows[b] = new Encoding(ids, new int[seq], new string[seq], new (int, int)[seq], new int[seq], false);
        }
        var lengths = Enumerable.Repeat(seq, batch).ToArray();
        var flat = rows.SelectMany(r => r.Ids).ToArray();
        return new EncodedBatch(batch, seq, flat, new int[batch * seq], Enumerable.Repeat(1, batch * seq).ToArray(), lengths, rows);
    }

    private static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    /// <summary>Peak resident set size: VmHWM from /proc/self/status on Linux, else the process's peak working set.</summary>
    internal static long PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { } catch (UnauthorizedAccessException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { } catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
