using System.Globalization;
using System.Text;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr inspect</c>: what a model folder holds, validated as a load would, without running it.</summary>
internal static class InspectCommand
{
    public const string Name = "inspect";

    public static readonly CommandSpec Spec = new(
        Name,
        "Validate a model folder and summarise it (architecture, sizes, parameters, tensors, heads).",
        "ntr inspect [--model DIR] [--json] [--tokenizer-only] [load options: --int8 --max-length N --batch-size N --threads N --drop-top K ... --max-memory SIZE]",
        [Common.Model, new("--json", null, "Print one JSON object instead of text."),
         new("--tokenizer-only", null, "Check and describe only the folder's tokenizer (no config.json or weights needed)."), .. Common.LoadOptionSpecs],
        Details:
            "Without --model it describes the model built into ntr (\"embedded\": true in JSON, \"source: embedded\"\n" +
            "in text; directory is the cache folder it is extracted to).\n" +
            "The folder is checked exactly as loading would check it (config, tokenizer, every tensor's presence,\n" +
            "dtype and shape). A folder without weights is an error (exit 1) unless --tokenizer-only is given;\n" +
            "--tokenizer-only loads the tokenizer as a model load would (tokenizer.json, or vocab.txt / vocab.json +\n" +
            "merges.txt) and reports it (JSON keys: directory, tokenizer_kind, vocab_size, pad_id, mask_token, mask_id,\n" +
            "model_max_length, special_tokens_single, special_tokens_pair, added_tokens).\n" +
            "JSON keys: directory, model_type, architecture, layers, hidden_size, attention_heads,\n" +
            "intermediate_size, vocab_size, parameter_count, weight_bytes, tensors_by_dtype, output_heads, has_weights,\n" +
            "non_finite_weights (NaN/Inf count in the weights the model reads; non_finite_tensors names them), embedded;\n" +
            "heads_per_layer (pruned folders) and quantization (weights-tools quantize folders) when they apply.\n" +
            "With weights it also prints the memory estimate for the given load options (what --max-memory is checked\n" +
            "against): peak RSS of a process loading the model and running batches of --batch-size × --max-length,\n" +
            "part by part (JSON: memory_estimate {total_bytes, model_bytes, baseline_bytes, runtime, batch_size,\n" +
            "max_length, threads, parts: [{name, bytes, detail}]}, plus memory_budget_bytes and fits_budget with --max-memory).");

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        var options = Common.LoadOptions(a);
        string dir = Common.ModelDir(a, ctx);
        if (a.Has("--tokenizer-only")) return RunTokenizerOnly(dir, a.Has("--json"), ctx);
        var s = TransformerModel.Inspect(dir);
        bool embedded = !a.Has("--model");
        if (!s.HasWeights)
            throw new WeightException("model.safetensors", $"{dir}: no weights (model.safetensors or model.safetensors.index.json); " +
                "the folder cannot be run. Pass --tokenizer-only to check only its tokenizer");
        var memory = s.HasWeights ? new MemoryReport(TransformerModel.EstimateMemory(dir, options), options.MaxMemoryBytes) : null;
        if (a.Has("--json")) WriteJson(ctx.Stdout, s, embedded, memory); else ctx.Stdout.Write(FormatText(s, embedded, memory));
        return CliApp.ExitOk;
    }

    private static int RunTokenizerOnly(string dir, bool json, CliContext ctx)
    {
        var t = TokenizerLoader.FromDirectory(dir);
        if (json)
        {
            var jw = new JsonLineWriter(ctx.Stdout);
            var w = jw.Begin();
            w.WriteStartObject();
            w.WriteString("directory", dir);
            w.WriteString("tokenizer_kind", t.Kind);
            w.WriteNumber("vocab_size", t.VocabSize);
            w.WriteNumber("pad_id", t.PadId);
            if (t.MaskToken is { } m) w.WriteString("mask_token", m); else w.WriteNull("mask_token");
            if (t.MaskId is { } mi) w.WriteNumber("mask_id", mi); else w.WriteNull("mask_id");
            if (t.ModelMaxLength is { } ml) w.WriteNumber("model_max_length", ml); else w.WriteNull("model_max_length");
            w.WriteNumber("special_tokens_single", t.SpecialTokenCount(false));
            w.WriteNumber("special_tokens_pair", t.SpecialTokenCount(true));
            w.WriteNumber("added_tokens", t.AddedTokens.Count);
            w.WriteEndObject();
            jw.End();
        }
        else
        {
            var inv = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.Append("directory:         ").Append(dir).Append('\n');
            sb.Append("tokenizer:         ").Append(t.Kind).Append('\n');
            sb.Append("vocab size:        ").Append(t.VocabSize.ToString(inv)).Append('\n');
            sb.Append("pad id:            ").Append(t.PadId.ToString(inv)).Append('\n');
            sb.Append("mask token:        ").Append(t.MaskToken is { } m ? $"{m} (id {t.MaskId})" : "-").Append('\n');
            sb.Append("model max length:  ").Append(t.ModelMaxLength?.ToString(inv) ?? "unset").Append('\n');
            sb.Append("special tokens:    ").Append($"{t.SpecialTokenCount(false)} (single), {t.SpecialTokenCount(true)} (pair)").Append('\n');
            sb.Append("added tokens:      ").Append(t.AddedTokens.Count.ToString(inv)).Append('\n');
            ctx.Stdout.Write(sb.ToString());
        }
        return CliApp.ExitOk;
    }

    /// <summary>The memory estimate for the command's load options, and the --max-memory budget when given.</summary>
    internal sealed record MemoryReport(MemoryEstimate Estimate, long? Budget);

    internal static void WriteJson(TextWriter output, ModelSummary s, bool embedded = false, MemoryReport? memory = null)
    {
        var json = new JsonLineWriter(output);
        var w = json.Begin();
        w.WriteStartObject();
        w.WriteString("directory", s.Directory);
        w.WriteString("model_type", s.ModelType);
        w.WriteString("architecture", s.Architecture);
        w.WriteNumber("layers", s.Layers);
        w.WriteNumber("hidden_size", s.HiddenSize);
        w.WriteNumber("attention_heads", s.AttentionHeads);
        w.WriteNumber("intermediate_size", s.IntermediateSize);
        w.WriteNumber("vocab_size", s.VocabSize);
        w.WriteNumber("parameter_count", s.ParameterCount);
        w.WriteNumber("weight_bytes", s.WeightBytes);
        w.WriteStartObject("tensors_by_dtype");
        foreach (var kv in s.TensorsByDType.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteNumber(kv.Key, kv.Value);
        w.WriteEndObject();
        w.WriteStartArray("output_heads");
        foreach (var h in s.OutputHeads) w.WriteStringValue(h);
        w.WriteEndArray();
        w.WriteBoolean("has_weights", s.HasWeights);
        w.WriteNumber("non_finite_weights", s.NonFiniteWeights);
        if (s.NonFiniteTensors.Count > 0)
        {
            w.WriteStartArray("non_finite_tensors");
            foreach (var t in s.NonFiniteTensors) w.WriteStringValue(t);
            w.WriteEndArray();
        }
        if (s.HeadsPerLayer is { } perLayer)
        {
            w.WriteStartArray("heads_per_layer");
            foreach (int n in perLayer) w.WriteNumberValue(n);
            w.WriteEndArray();
        }
        if (s.Quantization is { } q) w.WriteString("quantization", q);
        w.WriteBoolean("embedded", embedded);
        if (memory is { Estimate: var e })
        {
            w.WriteStartObject("memory_estimate");
            w.WriteNumber("total_bytes", e.TotalBytes);
            w.WriteNumber("model_bytes", e.ModelBytes);
            w.WriteNumber("baseline_bytes", e.ProcessBaselineBytes);
            w.WriteString("runtime", e.Runtime);
            w.WriteNumber("batch_size", e.BatchSize);
            w.WriteNumber("max_length", e.MaxLength);
            w.WriteNumber("threads", e.Threads);
            w.WriteStartArray("parts");
            foreach (var p in e.Parts)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name); w.WriteNumber("bytes", p.Bytes); w.WriteString("detail", p.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            if (memory.Budget is long budget)
            {
                w.WriteNumber("memory_budget_bytes", budget);
                w.WriteBoolean("fits_budget", e.TotalBytes <= budget);
            }
        }
        w.WriteEndObject();
        json.End();
    }

    internal static string FormatText(ModelSummary s, bool embedded = false, MemoryReport? memory = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var rows = new List<(string, string)>
        {
            ("source", embedded ? $"embedded in ntr ({EmbeddedModel.Name}; pass --model DIR for another model)" : "--model folder"),
            ("directory", s.Directory),
            ("architecture", s.Architecture),
            ("model type", s.ModelType),
            ("layers", s.Layers.ToString(inv)),
            ("hidden size", s.HiddenSize.ToString(inv)),
            ("attention heads", s.AttentionHeads.ToString(inv)),
            ("intermediate size", s.IntermediateSize.ToString(inv)),
            ("vocab size", s.VocabSize.ToString(inv)),
            ("parameters", s.ParameterCount.ToString("N0", inv)),
            ("weight bytes", $"{s.WeightBytes.ToString("N0", inv)} ({(s.WeightBytes / 1048576.0).ToString("0.0", inv)} MiB)"),
            ("tensors by dtype", s.TensorsByDType.Count == 0 ? "-"
                : string.Join(", ", s.TensorsByDType.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))),
            ("output heads", s.OutputHeads.Count == 0 ? "-" : string.Join(", ", s.OutputHeads)),
            ("has weights", s.HasWeights ? "yes" : "no"),
            ("non-finite weights", s.NonFiniteWeights == 0 ? "0" : $"{s.NonFiniteWeights.ToString("N0", inv)} NaN/Inf in {string.Join(", ", s.NonFiniteTensors)} (loading refuses them)"),
        };
        if (s.HeadsPerLayer is { } perLayer) rows.Insert(6, ("heads per layer", string.Join(", ", perLayer)));
        if (s.Quantization is { } q) rows.Add(("quantization", q));
        int width = rows.Max(r => r.Item1.Length) + 2;
        var sb = new StringBuilder();
        foreach (var (k, v) in rows) sb.Append((k + ":").PadRight(width + 1)).Append(v).Append('\n');
        if (memory is { Estimate: var e })
        {
            sb.Append($"memory estimate (batch {e.BatchSize} × {e.MaxLength} tokens, {e.Threads} thread(s), {e.Runtime}):\n").Append(e.Describe());
            if (memory.Budget is long budget)
                sb.Append($"  budget {MemoryEstimate.Format(budget)}: {(e.TotalBytes <= budget ? "fits" : "does NOT fit")}\n");
        }
        return sb.ToString();
    }
}
