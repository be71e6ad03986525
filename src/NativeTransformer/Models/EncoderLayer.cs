using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Int8;

namespace NativeTransformer.Models;

/// <summary>Which encoder Linear layers run in int8 when <see cref="LoadOptions.Int8"/> is on.</summary>
[Flags]
public enum Int8Linears
{
    None = 0,
    /// <summary>The fused query/key/value projection.</summary>
    Qkv = 1,
    AttentionOutput = 2,
    Intermediate = 4,
    Output = 8,
    /// <summary>MobileBERT's input/attention/output bottleneck Linears.</summary>
    Bottleneck = 16,
    All = Qkv | AttentionOutput | Intermediate | Output | Bottleneck,
}

/// <summary>
/// One encoder block in runtime form: Linear layers prepared once at load (packed fp32 or int8), with
/// query, key and value fused into one [3H, H] operator so one GEMM produces all three.
/// </summary>
internal sealed record EncoderLayer(
    LinearOperator Qkv,             // [3H, H]: rows 0..H query, H..2H key, 2H..3H value
    LinearOperator AttentionOutput, // [H, H]
    LayerNormWeights AttentionNorm, // [H]
    LinearOperator Intermediate,    // [I, H], GELU fused
    LinearOperator Output,          // [H, I]
    LayerNormWeights OutputNorm)    // [H]
{
    // MobileBERT (EncoderLayerWeights has the shapes); null / empty elsewhere.
    public Bottleneck? InputBottleneck { get; init; }
    public Bottleneck? AttentionBottleneck { get; init; }
    /// <summary>The value projection when it reads another input than query/key; <see cref="Qkv"/> is then [2A, ·] (query | key).</summary>
    public LinearOperator? Value { get; init; }
    public FeedForward[] ExtraFeedForwards { get; init; } = [];
    public Bottleneck? OutputBottleneck { get; init; }
    /// <summary>T5's gated FFN: wi_1, whose output multiplies act(<see cref="Intermediate"/>) element-wise; null elsewhere.</summary>
    public LinearOperator? Gate { get; init; }
    /// <summary>Longformer: query_global | key_global | value_global fused into one [3A, H] operator (global tokens' attention).</summary>
    public LinearOperator? GlobalQkv { get; init; }

    /// <summary>Every Linear operator of the block.</summary>
    public IEnumerable<LinearOperator> Operators()
    {
        yield return Qkv;
        if (Gate is { } g) yield return g;
        if (Value is { } v) yield return v;
        if (GlobalQkv is { } gq) yield return gq;
        yield return AttentionOutput; yield return Intermediate; yield return Output;
        foreach (var b in new[] { InputBottleneck, AttentionBottleneck, OutputBottleneck })
            if (b is not null) yield return b.Dense;
        foreach (var f in ExtraFeedForwards) { yield return f.Intermediate; yield return f.Output; }
    }
}

/// <summary>A Linear then a norm, in runtime form.</summary>
internal sealed record Bottleneck(LinearOperator Dense, LayerNormWeights Norm);

/// <summary>One stacked FFN in runtime form: norm(x + output(act(intermediate(x)))).</summary>
internal sealed record FeedForward(LinearOperator Intermediate, LinearOperator Output, LayerNormWeights Norm);

/// <summary>Builds <see cref="EncoderLayer"/>s from checkpoint weights: the one place that decides precision per layer.</summary>
internal static class EncoderLayerBuilder
{
    /// <summary>Builds the fp32 operator for a Linear named <paramref name="key"/> [<paramref name="outFeatures"/>,
    /// <paramref name="inFeatures"/>]. <paramref name="weights"/> is called only if the weights are needed: a builder that
    /// finds the operator ready-made (the packed-weights cache) never reads them, nor stacks query/key/value.</summary>
    public delegate LinearOperator Fp32Builder(string key, int outFeatures, int inFeatures, Func<LinearWeights> weights);

    public static EncoderLayer[] Build(EncoderWeights weights, bool int8, Int8Linears which, Fp32Builder? fp32 = null)
    {
        fp32 ??= (_, _, _, get) => { var w = get(); return new PackedLinear(w.Weight.Span, w.Bias.Span, w.Out, w.In); };
        var built = new Dictionary<EncoderLayerWeights, EncoderLayer>(ReferenceEqualityComparer.Instance); // ALBERT shares layers
        return weights.Layers.Select(l =>
        {
            if (built.TryGetValue(l, out var done)) return done;
            // A weight stored as int8 in the checkpoint always runs int8, whatever the options say.
            LinearOperator Make(LinearWeights w, Int8Linears kind) =>
                w.Quantized is { } q ? new QuantizedLinear(QuantizedMatrix.FromInt8(q.Values, q.Scales.Span, q.Rows, q.Cols), w.Bias.Span)
                : int8 && which.HasFlag(kind) ? new QuantizedLinear(w.Weight.Span, w.Bias.Span, w.Out, w.In) : fp32(w.Key, w.Out, w.In, () => w);
            LinearWeights[] qkvParts = l.SeparateValue ? [l.Query, l.Key] : [l.Query, l.Key, l.Value];
            var qkv = qkvParts.Any(p => p.Quantized is not null) ? ConcatQuantized(qkvParts)
                : int8 && which.HasFlag(Int8Linears.Qkv) ? Make(Concat(qkvParts), Int8Linears.Qkv)
                : fp32(ConcatKey(qkvParts), qkvParts.Sum(p => p.Out), qkvParts[0].In, () => Concat(qkvParts));
            LinearOperator? global = null;
            if (l.Global is { } gw)
            {
                LinearWeights[] parts = [gw.Query, gw.Key, gw.Value];
                global = parts.Any(p => p.Quantized is not null) ? ConcatQuantized(parts)
                    : int8 && which.HasFlag(Int8Linears.Qkv) ? Make(Concat(parts), Int8Linears.Qkv)
                    : fp32(ConcatKey(parts), 3 * gw.Query.Out, gw.Query.In, () => Concat(parts));
            }
            Bottleneck? Neck(BottleneckWeights? b) => b is null ? null : new Bottleneck(Make(b.Dense, Int8Linears.Bottleneck), b.Norm);
            return built[l] = new EncoderLayer(qkv, Make(l.AttentionOutput, Int8Linears.AttentionOutput), l.AttentionNorm,
                Make(l.Intermediate, Int8Linears.Intermediate), Make(l.Output, Int8Linears.Output), l.OutputNorm)
            {
                Value = l.SeparateValue ? Make(l.Value, Int8Linears.Qkv) : null,
                Gate = l.Gate is { } gate ? Make(gate, Int8Linears.Intermediate) : null,
                GlobalQkv = global,
                InputBottleneck = Neck(l.InputBottleneck), AttentionBottleneck = Neck(l.AttentionBottleneck), OutputBottleneck = Neck(l.OutputBottleneck),
                ExtraFeedForwards = l.ExtraFeedForwards.Select(f => new FeedForward(Make(f.Intermediate, Int8Linears.Intermediate),
                    Make(f.Output, Int8Linears.Output), f.Norm)).ToArray(),
            };
        }).ToArray();
    }

    /// <summary>T5's Linears have no bias: the fused one gets none either (no zeros to add).</summary>
    private static bool NoBias(LinearWeights[] parts) => parts.All(p => p.Bias.IsEmpty);

    private static string ConcatKey(LinearWeights[] parts) => string.Join("+", parts.Select(p => p.Key));

    /// <summary>Stacks Linear layers with the same input size into one: weights by rows, biases end to end.</summary>
    private static LinearWeights Concat(params LinearWeights[] parts)
    {
        int rows = parts.Sum(p => p.Out), k = parts[0].In;
        var w = new float[rows * k]; var b = NoBias(parts) ? [] : new float[rows];
        int r = 0;
        foreach (var p in parts)
        {
            p.Weight.Span.CopyTo(w.AsSpan(r * k));
            if (b.Length > 0) p.Bias.Span.CopyTo(b.AsSpan(r));
            r += p.Out;
        }
        return new LinearWeights(ConcatKey(parts), w, b, rows, k);
    }

    /// <summary>Int8 stacking when any part is stored int8, packed once straight from the checkpoint's bytes (the fp32 parts
    /// of a mixed checkpoint are quantized by the load-time rule first).</summary>
    private static QuantizedLinear ConcatQuantized(LinearWeights[] parts)
    {
        int rows = parts.Sum(p => p.Out);
        var fused = QuantizedMatrix.Zeros(rows, parts[0].In);
        var b = NoBias(parts) ? [] : new float[rows];
        int r = 0;
        foreach (var p in parts)
        {
            if (p.Quantized is { } q) fused.SetRows(r, q.Values, q.Scales.Span);
            else
            {
                var m = QuantizedMatrix.Quantize(p.Weight.Span, p.Out, p.In);
                fused.SetRows(r, m.Q, m.Scales);
            }
            if (b.Length > 0) p.Bias.Span.CopyTo(b.AsSpan(r));
            r += p.Out;
        }
        return new QuantizedLinear(fused, b);
    }
}
