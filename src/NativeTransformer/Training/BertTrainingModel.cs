using NativeTransformer.Kernels;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.Training;

/// <summary>
/// A BERT encoder (BertModel or BertForSequenceClassification) as a set of float32 parameters with a training forward
/// that keeps its activations (<see cref="Tape"/>) and the backward pass that turns output gradients into parameter
/// gradients. Separate from the inference <see cref="Encoder"/> on purpose: training reads and writes a private copy of
/// the weights, keeps every activation and allocates per step; the inference forward does none of that.
/// Eval-mode semantics (no dropout), absolute positions 0..S−1, additive key mask. Keys are the checkpoint's own
/// (<see cref="CheckpointLayout"/>), so gradients and updated weights are Hugging Face-named.
/// </summary>
public sealed class BertTrainingModel
{
    public ModelConfig Config { get; }
    public ParameterSet Parameters { get; }
    /// <summary>The checkpoint keys' prefix: "bert." in task checkpoints, "" in bare BertModel ones.</summary>
    public string Prefix { get; }
    /// <summary>True when the checkpoint has a pooler and a classifier (BertForSequenceClassification).</summary>
    public bool HasClassifier { get; }
    public int Labels { get; }
    internal CheckpointLayout Layout { get; }
    private readonly Epilogue _activation;

    private BertTrainingModel(ModelConfig config, string prefix, ParameterSet parameters, bool hasClassifier)
    {
        Config = config; Prefix = prefix; Parameters = parameters; HasClassifier = hasClassifier;
        Layout = CheckpointLayout.For(ModelFamily.Bert, prefix);
        _activation = config.HiddenAct.ToEpilogue();
        Labels = hasClassifier ? (int)parameters[Layout.Classifier + ".weight"].Shape[0] : 0;
    }

    /// <summary>Loads config.json and the weights of a BERT folder. Other families are refused (not yet trainable).</summary>
    public static BertTrainingModel Load(string directory)
    {
        var config = ModelConfig.Load(Path.Combine(directory, "config.json"));
        using var source = Checkpoint.Open(directory);
        return FromSource(config, source);
    }

    public static BertTrainingModel FromSource(ModelConfig config, ITensorSource source)
    {
        if (config.Family != ModelFamily.Bert || config.MobileBert is not null || config.NormalizationType != NormalizationType.LayerNorm)
            throw new ModelConfigException($"training supports BERT checkpoints (model_type bert) so far, not '{config.ModelType}'");
        if (config.PrunedHeads.Count > 0) throw new ModelConfigException("training does not support pruned attention heads yet");
        string prefix = CheckpointLayout.DetectPrefix(ModelFamily.Bert, n => source.TryGetInfo(n, out _));
        var layout = CheckpointLayout.For(ModelFamily.Bert, prefix);
        bool classifier = source.TryGetInfo(layout.Classifier + ".weight", out var cls) && source.TryGetInfo(layout.Pooler + ".weight", out _);
        int labels = classifier ? (int)cls.Shape[0] : 0;
        return new BertTrainingModel(config, prefix, ParameterSet.Load(source, ParameterShapes(config, layout, classifier, labels)), classifier);
    }

    /// <summary>Every trainable tensor with its shape, in checkpoint order.</summary>
    internal static IEnumerable<(string, long[])> ParameterShapes(ModelConfig c, CheckpointLayout l, bool classifier, int labels)
    {
        long h = c.HiddenSize, i = c.IntermediateSize;
        yield return (l.WordEmbeddings, [c.VocabSize, h]);
        yield return (l.PositionEmbeddings, [c.MaxPositionEmbeddings, h]);
        yield return (l.TokenTypeEmbeddings!, [c.TypeVocabSize, h]);
        yield return (l.EmbeddingNorm + ".weight", [h]);
        yield return (l.EmbeddingNorm + ".bias", [h]);
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            var k = l.Layer(layer);
            foreach (var lin in new[] { k.Query, k.Key, k.Value, k.AttentionOutput })
            { yield return (lin + ".weight", [h, h]); yield return (lin + ".bias", [h]); }
            yield return (k.AttentionNorm + ".weight", [h]); yield return (k.AttentionNorm + ".bias", [h]);
            yield return (k.Intermediate + ".weight", [i, h]); yield return (k.Intermediate + ".bias", [i]);
            yield return (k.Output + ".weight", [h, i]); yield return (k.Output + ".bias", [h]);
            yield return (k.OutputNorm + ".weight", [h]); yield return (k.OutputNorm + ".bias", [h]);
        }
        if (!classifier) yield break;
        yield return (l.Pooler + ".weight", [h, h]); yield return (l.Pooler + ".bias", [h]);
        yield return (l.Classifier + ".weight", [labels, h]); yield return (l.Classifier + ".bias", [labels]);
    }

    /// <summary>What the forward pass keeps for the backward pass.</summary>
    public sealed class Tape
    {
        internal TrainingBatch Batch = null!;
        internal int[] Positions = [];
        internal float[] EmbXHat = [], EmbInvStd = [];
        internal LayerTape[] Layers = [];
        /// <summary>The last hidden states [Batch·Seq, Hidden].</summary>
        public float[] Hidden { get; internal set; } = [];
        internal float[] ClsRows = [], Pooled = [];
        /// <summary>Classifier logits [Batch, Labels] (empty without a classifier).</summary>
        public float[] Logits { get; internal set; } = [];
    }

    internal sealed class LayerTape
    {
        public float[] Input = [], Q = [], K = [], V = [], Probs = [], Context = [];
        public float[] AttnXHat = [], AttnInvStd = [], AttnOut = [];
        public float[] PreAct = [], Act = [], OutXHat = [], OutInvStd = [];
    }

    private float[] P(string name) => Parameters[name].Values;

    public Tape Forward(TrainingBatch batch, int threads)
    {
        int b = batch.Batch, s = batch.Seq, t = b * s, h = Config.HiddenSize, inter = Config.IntermediateSize;
        int heads = Config.NumHeads, d = h / heads;
        if (s > Config.MaxPositionEmbeddings) throw new InputException($"sequence length {s} exceeds the model's {Config.MaxPositionEmbeddings} positions");
        float eps = Config.LayerNormEps;
        var tape = new Tape { Batch = batch, Positions = new int[t] };
        for (int i = 0; i < t; i++) tape.Positions[i] = i % s;
        foreach (var id in batch.InputIds)
            if ((uint)id >= (uint)Config.VocabSize) throw new InputException($"token id {id} is outside the vocabulary (size {Config.VocabSize})");
        foreach (var id in batch.TypeIds)
            if ((uint)id >= (uint)Config.TypeVocabSize) throw new InputException($"token type {id} is outside 0..{Config.TypeVocabSize - 1}");

        // Embeddings: (word + token type) + position, then LayerNorm (HF BertEmbeddings' order of additions).
        var e = new float[(long)t * h];
        EmbeddingBackward.AddRows(P(Layout.WordEmbeddings), batch.InputIds, e, h);
        EmbeddingBackward.AddRows(P(Layout.TokenTypeEmbeddings!), batch.TypeIds, e, h);
        EmbeddingBackward.AddRows(P(Layout.PositionEmbeddings), tape.Positions, e, h);
        var x = new float[e.Length];
        tape.EmbXHat = new float[e.Length]; tape.EmbInvStd = new float[t];
        LayerNormBackward.Forward(e, P(Layout.EmbeddingNorm + ".weight"), P(Layout.EmbeddingNorm + ".bias"), x, tape.EmbXHat, tape.EmbInvStd, t, h, eps);

        tape.Layers = new LayerTape[Config.NumLayers];
        for (int layer = 0; layer < Config.NumLayers; layer++)
        {
            var k = Layout.Layer(layer);
            var lt = tape.Layers[layer] = new LayerTape { Input = x };
            lt.Q = Linear(x, k.Query, t, h, h, threads);
            lt.K = Linear(x, k.Key, t, h, h, threads);
            lt.V = Linear(x, k.Value, t, h, h, threads);
            lt.Context = new float[(long)t * h]; lt.Probs = new float[(long)b * heads * s * s];
            AttentionBackward.Forward(lt.Q, lt.K, lt.V, batch.AttentionMask, lt.Context, lt.Probs, b, s, heads, d, threads);
            var pre = Linear(lt.Context, k.AttentionOutput, t, h, h, threads);
            for (int i = 0; i < pre.Length; i++) pre[i] += x[i];
            lt.AttnOut = new float[pre.Length]; lt.AttnXHat = new float[pre.Length]; lt.AttnInvStd = new float[t];
            LayerNormBackward.Forward(pre, P(k.AttentionNorm + ".weight"), P(k.AttentionNorm + ".bias"), lt.AttnOut, lt.AttnXHat, lt.AttnInvStd, t, h, eps);
            lt.PreAct = Linear(lt.AttnOut, k.Intermediate, t, inter, h, threads);
            lt.Act = new float[lt.PreAct.Length];
            ActivationBackward.Forward(_activation, lt.PreAct, lt.Act);
            var pre2 = Linear(lt.Act, k.Output, t, h, inter, threads);
            for (int i = 0; i < pre2.Length; i++) pre2[i] += lt.AttnOut[i];
            x = new float[pre2.Length]; lt.OutXHat = new float[pre2.Length]; lt.OutInvStd = new float[t];
            LayerNormBackward.Forward(pre2, P(k.OutputNorm + ".weight"), P(k.OutputNorm + ".bias"), x, lt.OutXHat, lt.OutInvStd, t, h, eps);
        }
        tape.Hidden = x;
        if (!HasClassifier) return tape;

        // BertPooler (tanh of a Linear on the [CLS] row) and the classifier Linear.
        tape.ClsRows = new float[(long)b * h];
        for (int r = 0; r < b; r++) Array.Copy(x, (long)r * s * h, tape.ClsRows, (long)r * h, h);
        var pooledPre = Linear(tape.ClsRows, Layout.Pooler!, b, h, h, threads);
        tape.Pooled = new float[pooledPre.Length];
        ActivationBackward.TanhForward(pooledPre, tape.Pooled);
        tape.Logits = Linear(tape.Pooled, Layout.Classifier, b, Labels, h, threads);
        return tape;
    }

    /// <summary>
    /// Adds d loss / d parameter to <paramref name="grads"/> (a <see cref="ParameterSet.ZerosLike"/> of
    /// <see cref="Parameters"/>) given d loss / d logits and/or d loss / d last hidden states (either may be null).
    /// </summary>
    public void Backward(Tape tape, float[]? dLogits, float[]? dHidden, ParameterSet grads, int threads)
    {
        var batch = tape.Batch;
        int b = batch.Batch, s = batch.Seq, t = b * s, h = Config.HiddenSize, inter = Config.IntermediateSize;
        int heads = Config.NumHeads, d = h / heads;
        var dx = dHidden is null ? new float[(long)t * h] : (float[])dHidden.Clone();
        if (dLogits is not null)
        {
            if (!HasClassifier) throw new InvalidOperationException("logit gradients need a classifier");
            var dPooled = LinearBack(tape.Pooled, dLogits, Layout.Classifier, grads, b, Labels, h, threads);
            ActivationBackward.TanhBackward(tape.Pooled, dPooled, dPooled);
            var dCls = LinearBack(tape.ClsRows, dPooled, Layout.Pooler!, grads, b, h, h, threads);
            for (int r = 0; r < b; r++)
                for (int i = 0; i < h; i++) dx[(long)r * s * h + i] += dCls[r * h + i];
        }

        for (int layer = Config.NumLayers - 1; layer >= 0; layer--)
        {
            var k = Layout.Layer(layer);
            var lt = tape.Layers[layer];
            // out = LN2(Output(act(Intermediate(attnOut))) + attnOut)
            var dPre2 = new float[dx.Length];
            LayerNormBackward.Backward(dx, lt.OutXHat, lt.OutInvStd, P(k.OutputNorm + ".weight"), dPre2,
                grads[k.OutputNorm + ".weight"].Values, grads[k.OutputNorm + ".bias"].Values, t, h);
            var dAct = LinearBack(lt.Act, dPre2, k.Output, grads, t, h, inter, threads);
            ActivationBackward.Backward(_activation, lt.PreAct, dAct, dAct);
            var dAttnOut = LinearBack(lt.AttnOut, dAct, k.Intermediate, grads, t, inter, h, threads);
            for (int i = 0; i < dAttnOut.Length; i++) dAttnOut[i] += dPre2[i];
            // attnOut = LN1(AttentionOutput(attention(Q x, K x, V x)) + x)
            var dPre1 = new float[dx.Length];
            LayerNormBackward.Backward(dAttnOut, lt.AttnXHat, lt.AttnInvStd, P(k.AttentionNorm + ".weight"), dPre1,
                grads[k.AttentionNorm + ".weight"].Values, grads[k.AttentionNorm + ".bias"].Values, t, h);
            var dContext = LinearBack(lt.Context, dPre1, k.AttentionOutput, grads, t, h, h, threads);
            var dQ = new float[dx.Length]; var dK = new float[dx.Length]; var dV = new float[dx.Length];
            AttentionBackward.Backward(lt.Q, lt.K, lt.V, lt.Probs, dContext, dQ, dK, dV, b, s, heads, d, threads);
            var dIn = dPre1;
            foreach (var (grad, key) in new[] { (dQ, k.Query), (dK, k.Key), (dV, k.Value) })
            {
                var part = LinearBack(lt.Input, grad, key, grads, t, h, h, threads);
                for (int i = 0; i < dIn.Length; i++) dIn[i] += part[i];
            }
            dx = dIn;
        }

        var dE = new float[dx.Length];
        LayerNormBackward.Backward(dx, tape.EmbXHat, tape.EmbInvStd, P(Layout.EmbeddingNorm + ".weight"), dE,
            grads[Layout.EmbeddingNorm + ".weight"].Values, grads[Layout.EmbeddingNorm + ".bias"].Values, t, h);
        EmbeddingBackward.Backward(dE, batch.InputIds, grads[Layout.WordEmbeddings].Values, h, Config.PadTokenId);
        EmbeddingBackward.Backward(dE, batch.TypeIds, grads[Layout.TokenTypeEmbeddings!].Values, h, -1);
        EmbeddingBackward.Backward(dE, tape.Positions, grads[Layout.PositionEmbeddings].Values, h, -1);
    }

    private float[] Linear(float[] x, string key, int m, int n, int k, int threads)
    {
        var y = new float[(long)m * n];
        LinearBackward.Forward(x, P(key + ".weight"), P(key + ".bias"), y, m, n, k, threads);
        return y;
    }

    /// <summary>Accumulates the weight and bias gradients of Linear <paramref name="key"/>; returns dX.</summary>
    private float[] LinearBack(float[] x, float[] dY, string key, ParameterSet grads, int m, int n, int k, int threads)
    {
        LinearBackward.WeightGradient(dY, x, grads[key + ".weight"].Values, grads[key + ".bias"].Values, m, n, k, threads);
        var dX = new float[(long)m * k];
        LinearBackward.InputGradient(dY, P(key + ".weight"), dX, m, n, k, threads);
        return dX;
    }
}
