using System.Globalization;
using System.Text;

namespace NativeTransformer;

/// <summary>One part of a <see cref="MemoryEstimate"/>: what it is, its bytes and how they were counted.</summary>
public sealed record MemoryPart(string Name, long Bytes, string Detail);

/// <summary>
/// The peak resident memory (RSS) a process is expected to reach when it loads a model folder with given
/// <see cref="LoadOptions"/> and runs forward passes of up to <see cref="BatchSize"/> × <see cref="MaxLength"/> tokens
/// with <see cref="RunStates"/> calls at once. Computed from config.json, the tokenizer files and the safetensors
/// headers only (see <see cref="TransformerModel.EstimateMemory"/>); <see cref="ModelBytes"/> is what the model adds,
/// <see cref="TotalBytes"/> adds the runtime's own baseline and is the figure a budget is compared with.
/// </summary>
public sealed record MemoryEstimate
{
    /// <summary>The model's parts, in a fixed order (see the README's "Memory budget" for what each counts).</summary>
    public required IReadOnlyList<MemoryPart> Parts { get; init; }
    /// <summary>RSS of the runtime itself before any model: larger under the JIT (dotnet run / ntr.dll) than native AOT.</summary>
    public required long ProcessBaselineBytes { get; init; }
    /// <summary>"jit" or "native-aot": which runtime the baseline is for (the one this code runs on).</summary>
    public required string Runtime { get; init; }
    public required int BatchSize { get; init; }
    public required int MaxLength { get; init; }
    public required int Threads { get; init; }
    /// <summary>Run states (activation buffer sets) counted: one per concurrent call into the model.</summary>
    public required int RunStates { get; init; }

    /// <summary>Sum of <see cref="Parts"/>.</summary>
    public long ModelBytes => Parts.Sum(p => p.Bytes);
    /// <summary>Expected peak RSS of the process: <see cref="ModelBytes"/> + <see cref="ProcessBaselineBytes"/>.</summary>
    public long TotalBytes => ModelBytes + ProcessBaselineBytes;

    /// <summary>The <paramref name="count"/> largest parts, largest first.</summary>
    public IReadOnlyList<MemoryPart> Largest(int count) => Parts.OrderByDescending(p => p.Bytes).Take(count).ToArray();

    /// <summary>"12.3 MiB": bytes in binary megabytes, one decimal.</summary>
    public static string Format(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    /// <summary>A multi-line breakdown (ntr inspect).</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        int width = Math.Max(Parts.Max(p => p.Name.Length), "process baseline".Length) + 2;
        foreach (var p in Parts)
            sb.Append("  ").Append((p.Name + ":").PadRight(width)).Append(Format(p.Bytes).PadLeft(10)).Append("  ").Append(p.Detail).Append('\n');
        sb.Append("  ").Append("model:".PadRight(width)).Append(Format(ModelBytes).PadLeft(10)).Append('\n');
        sb.Append("  ").Append("process baseline:".PadRight(width)).Append(Format(ProcessBaselineBytes).PadLeft(10))
            .Append("  ").Append(Runtime == "jit" ? "JIT runtime (dotnet ntr.dll / dotnet run)" : "native AOT binary").Append('\n');
        sb.Append("  ").Append("total (peak RSS):".PadRight(width)).Append(Format(TotalBytes).PadLeft(10)).Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// A model would not fit in the memory budget (<see cref="LoadOptions.MaxMemoryBytes"/>, <c>--max-memory</c>). Raised
/// before any weight byte is read; <see cref="Estimate"/> holds the full breakdown.
/// </summary>
public sealed class MemoryBudgetException : NativeTransformerException
{
    public MemoryEstimate Estimate { get; }
    public long BudgetBytes { get; }

    public MemoryBudgetException(string what, MemoryEstimate estimate, long budgetBytes, LoadOptions options)
        : base(BuildMessage(what, estimate, budgetBytes, options))
    {
        Estimate = estimate; BudgetBytes = budgetBytes;
    }

    private static string BuildMessage(string what, MemoryEstimate e, long budget, LoadOptions o)
    {
        var largest = string.Join(", ", e.Largest(3).Select(p => $"{p.Name} {MemoryEstimate.Format(p.Bytes)}"));
        var tips = new List<string>();
        if (!o.Int8) tips.Add("--int8 (LoadOptions.Int8: int8 Linear copies are a quarter of the fp32 packed ones)");
        tips.Add($"a smaller --max-length / --batch-size (activation buffers grow with batch × length; now {e.BatchSize} × {e.MaxLength})");
        tips.Add("--drop-top K (fewer encoder layers)");
        return $"{what}: estimated peak memory {MemoryEstimate.Format(e.TotalBytes)} (model {MemoryEstimate.Format(e.ModelBytes)} + " +
            $"{e.Runtime} process baseline {MemoryEstimate.Format(e.ProcessBaselineBytes)}) exceeds the memory budget {MemoryEstimate.Format(budget)} " +
            $"(--max-memory / LoadOptions.MaxMemoryBytes). Largest parts: {largest}. To fit, try {string.Join("; ", tips)}.";
    }
}
