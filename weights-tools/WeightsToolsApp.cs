using System.Diagnostics;
using System.Globalization;

namespace NativeTransformer.WeightsTools;

/// <summary>The weights-tools command line. Exit codes as ntr: 0 ok, 1 error, 2 usage error.</summary>
public static class WeightsToolsApp
{
    public const string Help =
        "weights-tools - offline weight transforms for NativeTransformer\n\n" +
        "Usage: weights-tools <command> [arguments]\n\n" +
        "Commands:\n" +
        "  inspect DIR   Validate a model folder and print its summary (as 'ntr inspect').\n" +
        "  make-random --shape minilm-l6|bert-base|bert-large|longformer-base-4096|longformer-small-4096 --output DIR [--seed N] [--labels K] [--vocab-from DIR]\n" +
        "                Write a Hugging Face BERT folder with random normal(0, 0.02) F32 weights (deterministic in N,\n" +
        "                default 0): a bare BertModel, or BertForSequenceClassification with K labels. vocab.txt and\n" +
        "                tokenizer files come from --vocab-from (default: ../shared/models/bert-mini-sst2 beside the repo).\n" +
        "                longformer-*-4096: a Longformer (window 512 / 256, 4,098 positions = 4,096 tokens, global projections).\n" +
        DropLayersCommand.HelpLine + "\n" +
        PruneCommand.HelpLine + "\n" +
        QuantizeCommand.HelpLine + "\n" +
        Sweep.SweepCommand.HelpLine + "\n" +
        AutoCompress.AutoCompressCommand.HelpLine + "\n" +
        GradientsCommand.HelpLine + "\n" +
        Training.FinetuneCommand.HelpLine + "\n" +
        Training.DistillCommand.HelpLine;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            stderr.Write(Help);
            return 2;
        }
        if (args[0] is "-h" or "--help" or "help" || args.Skip(1).Any(a => a is "-h" or "--help")) // every command's usage is in Help
        {
            stdout.Write(Help);
            return 0;
        }
        try
        {
            switch (args[0])
            {
                case "inspect" when args.Length == 2 && !args[1].StartsWith('-'):
                    var s = TransformerModel.Inspect(args[1]);
                    stdout.Write(
                        $"directory:         {s.Directory}\n" +
                        $"architecture:      {s.Architecture}\n" +
                        $"model type:        {s.ModelType}\n" +
                        $"layers × hidden:   {s.Layers} × {s.HiddenSize} (heads {s.AttentionHeads}, intermediate {s.IntermediateSize})\n" +
                        $"vocab size:        {s.VocabSize}\n" +
                        $"parameters:        {s.ParameterCount:N0}\n" +
                        $"weight bytes:      {s.WeightBytes:N0}\n" +
                        $"tensors by dtype:  {string.Join(", ", s.TensorsByDType.Select(kv => $"{kv.Key}={kv.Value}"))}\n" +
                        $"output heads:      {string.Join(", ", s.OutputHeads)}\n" +
                        $"has weights:       {(s.HasWeights ? "yes" : "no")}\n" +
                        $"non-finite:        {(s.NonFiniteWeights == 0 ? "0" : $"{s.NonFiniteWeights:N0} NaN/Inf in {string.Join(", ", s.NonFiniteTensors)} (loading refuses them)")}\n");
                    InspectCommand.WriteSparsity(args[1], stdout);
                    return 0;
                case "inspect":
                    return Usage(stderr, "usage: weights-tools inspect DIR");
                case "prune": return PruneCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr);
                case "quantize": return QuantizeCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr);
                case "make-random":
                    return MakeRandom(args.AsSpan(1).ToArray(), stdout, stderr);
                case "drop-layers": return DropLayersCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr);
                case "sweep": return Sweep.SweepCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr);
                case "autocompress": return AutoCompress.AutoCompressCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr);
                case "gradients": return GradientsCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr);
                case "finetune": return Training.FinetuneCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr);
                case "distill": return Training.DistillCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr);
                default:
                    return Usage(stderr, $"unknown command '{args[0]}' (see 'weights-tools --help')");
            }
        }
        catch (NativeTransformerException e)
        {
            stderr.WriteLine("weights-tools: error: " + e.Message.ReplaceLineEndings(" "));
            return 1;
        }
        catch (IOException e)
        {
            stderr.WriteLine("weights-tools: error: " + e.Message.ReplaceLineEndings(" "));
            return 1;
        }
        catch (UnauthorizedAccessException e)
        {
            stderr.WriteLine("weights-tools: error: " + e.Message.ReplaceLineEndings(" "));
            return 1;
        }
    }

    private static int Usage(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message);
        return 2;
    }

    private const string MakeRandomUsage =
        "usage: weights-tools make-random --shape minilm-l6|bert-base|bert-large|longformer-base-4096|longformer-small-4096 --output DIR [--seed N] [--labels K] [--vocab-from DIR]";

    private static int MakeRandom(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ToolArgs.TryParse("make-random", args, allowPositional: false, ["--shape", "--output", "--seed", "--labels", "--vocab-from"], out var parsed) is { } error)
            return Usage(stderr, $"{error}\n{MakeRandomUsage}");
        string? shapeName = parsed.Get("--shape"), output = parsed.Get("--output"), vocabFrom = parsed.Get("--vocab-from");
        int seed = 0;
        int? labels = null;
        if (parsed.Get("--seed") is { } seedText && !int.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
            return Usage(stderr, $"make-random: --seed must be an integer, got '{seedText}'");
        if (parsed.Get("--labels") is { } labelText)
        {
            if (!int.TryParse(labelText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int k) || k < 1 || k > 100_000)
                return Usage(stderr, $"make-random: --labels must be an integer from 1 to 100000, got '{labelText}'");
            labels = k;
        }
        if (shapeName is null) return Usage(stderr, $"make-random: --shape is required\n{MakeRandomUsage}");
        if (output is null) return Usage(stderr, $"make-random: --output is required\n{MakeRandomUsage}");
        if (!BertShape.Known.TryGetValue(shapeName, out var shape))
            return Usage(stderr, $"make-random: unknown shape '{shapeName}' (known: {string.Join(", ", BertShape.Known.Keys)})");
        vocabFrom ??= DefaultVocabFolder();
        if (vocabFrom is null || !File.Exists(Path.Combine(vocabFrom, "vocab.txt")))
            return Usage(stderr, vocabFrom is null
                ? "make-random: no vocab folder found (../shared/models/bert-mini-sst2 beside the repo, or $NT_SHARED); pass --vocab-from DIR"
                : $"make-random: no vocab.txt in '{vocabFrom}'");

        var sw = Stopwatch.StartNew();
        RandomModelGenerator.Generate(shape, seed, output, labels, vocabFrom);
        long bytes = new FileInfo(Path.Combine(output, "model.safetensors")).Length;
        stdout.WriteLine($"make-random: wrote {shape.Name} ({(labels is null ? "BertModel" : $"BertForSequenceClassification, {labels} labels")}, " +
                         $"seed {seed}) to {Path.GetFullPath(output)}: model.safetensors {bytes / 1e6:F1} MB in {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>$NT_SHARED/models/bert-mini-sst2, else ../shared/models/bert-mini-sst2 beside the first folder above the
    /// working directory or the tool's own folder that holds NativeTransformer.sln.</summary>
    public static string? DefaultVocabFolder()
    {
        if (Environment.GetEnvironmentVariable("NT_SHARED") is { Length: > 0 } shared)
            return Path.Combine(shared, "models", "bert-mini-sst2");
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "NativeTransformer.sln")))
                {
                    string candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "models", "bert-mini-sst2"));
                    if (File.Exists(Path.Combine(candidate, "vocab.txt"))) return candidate;
                    break;
                }
        return null;
    }
}
