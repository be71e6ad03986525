using System.Diagnostics;
using System.Globalization;
using NativeTransformer.Compression;

namespace NativeTransformer.WeightsTools;

/// <summary><c>weights-tools prune</c>: magnitude pruning of the encoder Linear weights, or structured pruning of attention
/// heads and feed-forward neurons (<c>--heads</c>/<c>--ffn</c>), into a new folder.</summary>
public static class PruneCommand
{
    public const string HelpLine =
        "  prune DIR --output DIR2 --sparsity S --method magnitude [--scope matrix|layer|global] [--pattern unstructured|2:4]\n" +
        "                Zero the smallest-magnitude weights of the encoder Linear layers (embeddings, LayerNorm, biases,\n" +
        "                pooler and heads untouched): exactly floor(S*n) zeros per matrix, layer or model (scope, default\n" +
        "                matrix); 2:4 zeros 2 of every 4 consecutive input weights (S must be 0.5 or omitted).\n" +
        "  prune DIR --output DIR2 [--heads H] [--ffn F]\n" +
        "                Structured pruning: remove floor(H*heads) of the least important attention heads of every layer\n" +
        "                (one always stays) and fraction F of the least important FFN neurons (same count in every layer,\n" +
        "                rounded to the nearest multiple of 32, the GEMM panel width), shrinking the matrices; config.json\n" +
        "                records pruned_heads as Hugging Face does. Not combinable with --sparsity.\n";

    public const string Usage =
        "usage: weights-tools prune DIR --output DIR2 --sparsity S --method magnitude [--scope matrix|layer|global] [--pattern unstructured|2:4]" +
        " | prune DIR --output DIR2 [--heads H] [--ffn F]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ToolArgs.TryParse("prune", args, allowPositional: true, ["--output", "--sparsity", "--method", "--scope", "--pattern", "--heads", "--ffn"], out var parsed) is { } error)
            return Fail(stderr, error);
        string? input = parsed.Positional, output = parsed.Get("--output"), method = parsed.Get("--method"),
            scopeText = parsed.Get("--scope"), patternText = parsed.Get("--pattern"), sparsityText = parsed.Get("--sparsity");
        if (input is null) return Fail(stderr, "prune: the model folder DIR is required");
        if (output is null) return Fail(stderr, "prune: --output is required");
        if (parsed.Get("--heads") is not null || parsed.Get("--ffn") is not null)
        {
            if (sparsityText is not null || method is not null || scopeText is not null || patternText is not null)
                return Fail(stderr, "prune: --heads/--ffn (structured) cannot be combined with --sparsity/--method/--scope/--pattern; run prune twice");
            return RunStructured(input, output, parsed.Get("--heads"), parsed.Get("--ffn"), stdout, stderr);
        }
        if (method is null) return Fail(stderr, "prune: --method is required (magnitude)");
        if (method != "magnitude") return Fail(stderr, $"prune: unknown method '{method}' (known: magnitude)");

        var pattern = patternText switch
        {
            null or "unstructured" => SparsityPattern.Unstructured,
            "2:4" => SparsityPattern.TwoFour,
            _ => (SparsityPattern)(-1),
        };
        if ((int)pattern < 0) return Fail(stderr, $"prune: unknown pattern '{patternText}' (known: unstructured, 2:4)");
        var scope = scopeText switch
        {
            null or "matrix" => PruningScope.Matrix,
            "layer" => PruningScope.Layer,
            "global" => PruningScope.Global,
            _ => (PruningScope)(-1),
        };
        if ((int)scope < 0) return Fail(stderr, $"prune: unknown scope '{scopeText}' (known: matrix, layer, global)");

        double sparsity;
        if (sparsityText is null)
        {
            if (pattern != SparsityPattern.TwoFour) return Fail(stderr, "prune: --sparsity is required");
            sparsity = 0.5;
        }
        else if (!double.TryParse(sparsityText, NumberStyles.Float, CultureInfo.InvariantCulture, out sparsity) || !(sparsity >= 0 && sparsity < 1))
            return Fail(stderr, $"prune: --sparsity must be a number in [0, 1), got '{sparsityText}'");
        if (pattern == SparsityPattern.TwoFour)
        {
            if (sparsity != 0.5) return Fail(stderr, $"prune: 2:4 gives exactly 50 % sparsity; --sparsity must be 0.5 or omitted, got '{sparsityText}'");
            if (scope != PruningScope.Matrix) return Fail(stderr, "prune: --scope does not apply to 2:4 (each group of 4 is pruned on its own)");
        }

        var sw = Stopwatch.StartNew();
        var report = PruneFolder.Run(input, output, new PruneOptions(sparsity, scope, pattern));
        long zeros = 0, count = 0;
        foreach (var m in report)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Name,-70} [{m.Shape[0]}, {m.Shape[1]}]  {m.Zeros,10:N0} / {m.Count,10:N0} zeros  sparsity {m.Sparsity:F4}"));
            zeros += m.Zeros;
            count += m.Count;
        }
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"prune: {report.Count} matrices, {zeros:N0} / {count:N0} zeros (sparsity {(count == 0 ? 0 : (double)zeros / count):F4}, " +
            $"method magnitude, scope {(pattern == SparsityPattern.TwoFour ? "matrix" : scope.ToString().ToLowerInvariant())}, " +
            $"pattern {(pattern == SparsityPattern.TwoFour ? "2:4" : "unstructured")}) written to {Path.GetFullPath(output)} in {sw.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    private static int RunStructured(string input, string output, string? headsText, string? ffnText, TextWriter stdout, TextWriter stderr)
    {
        double heads = 0, ffn = 0;
        if (headsText is not null && !TryFraction(headsText, out heads)) return Fail(stderr, $"prune: --heads must be a number in [0, 1), got '{headsText}'");
        if (ffnText is not null && !TryFraction(ffnText, out ffn)) return Fail(stderr, $"prune: --ffn must be a number in [0, 1), got '{ffnText}'");
        var sw = Stopwatch.StartNew();
        var r = StructuredPruneFolder.Run(input, output, new StructuredPruneOptions(heads, ffn));
        foreach (var (layer, removed) in r.RemovedHeads.OrderBy(p => p.Key))
            stdout.WriteLine($"layer {layer}: removed heads {string.Join(",", removed)} (pruned_heads now {string.Join(",", r.PrunedHeads[layer])})");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"prune: heads {r.HeadsBefore} -> {r.HeadsAfter}, intermediate {r.IntermediateBefore} -> {r.IntermediateAfter} per layer, " +
            $"encoder parameters {r.ParametersBefore:N0} -> {r.ParametersAfter:N0} ({(r.ParametersBefore == 0 ? 1 : (double)r.ParametersAfter / r.ParametersBefore):P1}) " +
            $"written to {r.OutputDirectory} in {sw.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    private static bool TryFraction(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value >= 0 && value < 1;

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message + " (" + Usage + ")");
        return 2;
    }
}
