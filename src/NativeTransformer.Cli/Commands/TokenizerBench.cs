using System.Diagnostics;
using System.Text;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Cli.Commands;

/// <summary>
/// <c>ntr bench --tokenizer</c>: sentences/s of the model folder's tokenizer on the lines of a file, one thread, full
/// <see cref="ITokenizer.Encode"/> (ids, type ids, tokens, offsets, [CLS]/[SEP]). Loads no weights.
/// </summary>
/// <remarks>
/// Input: every line of the file is one sentence, except for a GLUE TSV (first line tab-separated with a column named
/// "sentence"): then the header is skipped and only that column is tokenized, so SST-2's train.tsv benchmarks the
/// sentences and not the labels. The whole file is read into memory first, so the timing holds no I/O.
/// </remarks>
internal static class TokenizerBench
{
    /// <summary>Largest input file read (SST-2 train is 3.8 MB).</summary>
    private const long MaxInputBytes = 256L << 20;

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        foreach (var model in new[] { "--batch", "--seq", "--threads", "--int8", "--keep-layers", "--drop-top", "--sparse", "--max-memory", "--no-pack-cache" })
            if (a.Has(model)) throw new UsageException($"option '{model}' does not apply to 'bench --tokenizer' (it times the tokenizer alone, on one thread)", BenchCommand.Name);
        string input = a.Get("--input") ?? throw new UsageException("'bench --tokenizer' needs --input FILE (one sentence per line, or a GLUE TSV)", BenchCommand.Name);
        if (input == "-") throw new UsageException("'bench --tokenizer' reads --input from a file, not stdin", BenchCommand.Name);
        int warmup = a.Has("--warmup") ? a.NonNegativeInt("--warmup") : 1;
        int? passes = a.PositiveInt("--iterations");
        string dir = Common.ModelDir(a, ctx);
        var sentences = ReadSentences(input, out string column);
        if (sentences.Length == 0) throw new InputException($"{input}: no sentences to tokenize");
        var tokenizer = TokenizerLoader.FromDirectory(dir);

        long tokensPerPass = 0;
        for (int i = 0; i < warmup; i++) tokensPerPass = Pass(tokenizer, sentences);
        if (warmup == 0) tokensPerPass = Pass(tokenizer, sentences); // counts the tokens; not timed
        var seconds = new List<double>();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var total = Stopwatch.StartNew();
        while (Passes.More(seconds.Count, passes, minimum: 3, seconds: 2, total))
        {
            long t0 = Stopwatch.GetTimestamp();
            Pass(tokenizer, sentences);
            seconds.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        // CPU time of the process over all timed passes: on a shared machine wall time also counts the time other
        // processes held the core, CPU time does not (GC threads included, so it is not flattering).
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        double cpuSentencesPerSecond = (double)sentences.Length * seconds.Count / cpuSeconds;
        seconds.Sort();
        double median = seconds[(seconds.Count - 1) / 2];
        double sentencesPerSecond = sentences.Length / median, tokensPerSecond = tokensPerPass / median;

        if (a.Has("--json"))
        {
            var json = new JsonLineWriter(ctx.Stdout);
            var w = json.Begin();
            w.WriteStartObject();
            w.WriteNumber("sentences_per_s", Math.Round(sentencesPerSecond, 0));
            w.WriteNumber("tokens_per_s", Math.Round(tokensPerSecond, 0));
            w.WriteNumber("threads", 1);
            w.WriteNumber("cpu_sentences_per_s", Math.Round(cpuSentencesPerSecond, 0));
            w.WriteString("tokenizer", tokenizer.Kind);
            w.WriteNumber("sentences", sentences.Length);
            w.WriteNumber("tokens_per_pass", tokensPerPass);
            w.WriteNumber("warmup", warmup);
            w.WriteNumber("passes", seconds.Count);
            w.WriteNumber("median_pass_ms", Math.Round(median * 1000, 3));
            w.WriteNumber("min_pass_ms", Math.Round(seconds[0] * 1000, 3));
            w.WriteString("column", column);
            w.WriteString("model", Path.GetFullPath(dir));
            w.WriteString("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
            w.WriteEndObject();
            json.End();
        }
        else
        {
            var o = ctx.Stdout;
            o.Write($"tokenizer:   {tokenizer.Kind} ({Path.GetFullPath(dir)})\n");
            o.Write($"input:       {Path.GetFullPath(input)}, {sentences.Length} sentences ({column}), {tokensPerPass} tokens incl. special\n");
            o.Write($"runtime:     {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}\n");
            o.Write($"threads:     1\n");
            o.Write($"passes:      {warmup} warm-up, {seconds.Count} timed (median {median * 1000:F1} ms, min {seconds[0] * 1000:F1} ms)\n");
            o.Write($"throughput:  {sentencesPerSecond:F0} sentences/s, {tokensPerSecond:F0} tokens/s (per CPU second: {cpuSentencesPerSecond:F0} sentences/s)\n");
        }
        return CliApp.ExitOk;
    }

    /// <summary>One pass: every sentence through the full Encode; returns the tokens produced (special tokens included).</summary>
    private static long Pass(ITokenizer tokenizer, string[] sentences)
    {
        long tokens = 0;
        foreach (var s in sentences) tokens += tokenizer.Encode(s).Length;
        return tokens;
    }

    /// <summary>The file's lines, or the "sentence" column of a GLUE TSV (header skipped).</summary>
    internal static string[] ReadSentences(string path, out string column)
    {
        if (Directory.Exists(path)) throw new InputException($"{path}: is a folder, expected a text file");
        if (!File.Exists(path)) throw new InputException($"{path}: input file not found");
        string text;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxInputBytes) throw new InputException($"{path}: {length} bytes, over the {MaxInputBytes}-byte limit of 'bench --tokenizer'");
            text = File.ReadAllText(path, new UTF8Encoding(false, true));
        }
        catch (DecoderFallbackException e) { throw new InputException($"{path}: not valid UTF-8 ({e.Message})"); }
        var lines = SplitLines(text.StartsWith('\uFEFF') ? text[1..] : text);
        column = "whole lines";
        if (lines.Count > 0 && lines[0].Contains('\t'))
        {
            int col = Array.IndexOf(lines[0].Split('\t'), "sentence");
            if (col >= 0)
            {
                column = $"TSV column {col + 1} 'sentence'";
                var result = new string[lines.Count - 1];
                for (int i = 1; i < lines.Count; i++)
                {
                    var cells = lines[i].Split('\t');
                    if (col >= cells.Length) throw new InputException($"{path}:{i + 1}: {cells.Length} columns, the header names 'sentence' as column {col + 1}");
                    result[i - 1] = cells[col];
                }
                return result;
            }
        }
        return [.. lines];
    }

    /// <summary>Lines split on "\n" with a trailing "\r" removed; a final newline adds no empty line.</summary>
    private static List<string> SplitLines(string text)
    {
        var lines = new List<string>();
        int pos = 0;
        while (pos < text.Length)
        {
            int nl = text.IndexOf('\n', pos);
            int end = nl < 0 ? text.Length : nl;
            lines.Add(text[pos..(end > pos && text[end - 1] == '\r' ? end - 1 : end)]);
            if (nl < 0) break;
            pos = nl + 1;
        }
        return lines;
    }
}
