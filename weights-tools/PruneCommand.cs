using System.Diagnostics;
using System.Globalization;
using NativeTransformer.Compression;

namespace NativeTransformer.WeightsTools;

/// <summary><c>weights-tools prune</c>: magnitude pruning of the encoder Linear weights into a new folder.</summary>
public static class PruneCommand
{
    public const string HelpLine =
        "  prune DIR --output DIR2 --sparsity S --method magnitude [--scope matrix|layer|global] [--pattern unstructured|2:4]\n" +
        "                Zero the smallest-magnitude weights of the encoder Linear layers (embeddings, LayerNorm, biases,\n" +
        "                pooler and heads untouched): exactly floor(S*n) zeros per matrix, layer or model (scope, default\n" +
        "                matrix); 2:4 zeros 2 of every 4 consecutive input weights (S must be 0.5 or omitted).\n";

    public const string Usage =
        "usage: weights-tools prune DIR --output DIR2 --sparsity S --method magnitude [--scope matrix|layer|global] [--pattern unstructured|2:4]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ToolArgs.TryParse("prune", args, allowPositional: true, ["--output", "--sparsity", "--method", "--scope", "--pattern"], out var parsed) is { } error)
            return Fail(stderr, error);
        string? input = parsed.Positional, output = parsed.Get("--output"), method = parsed.Get("--method"),
            scopeText = parsed.Get("--scope"), patternText = parsed.Get("--pattern"), sparsityText = parsed.Get("--sparsity");
        if (input is null) return Fail(stderr, "prune: the model folder DIR is required");
        if (output is null) return Fail(stderr, "prune: --output is required");
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

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message + " (" + Usage + ")");
        return 2;
    }
}
