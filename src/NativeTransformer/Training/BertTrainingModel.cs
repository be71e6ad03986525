using NativeTransformer.Kernels;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer.Training;

/// <summary>
/// A BERT-family encoder (BERT, DistilBERT, RoBERTa/XLM-R, ALBERT; bare or …ForSequenceClassification) as a set of float32
/// parameters with a training forward that keeps its activations (<see cref="Tape"/>) and the backward pass that turns
/// output gradients into parameter gradients. Separate from the inference <see cref="Encoder"/> on purpose: training reads
/// and writes a private copy of the weights, keeps every activation and allocates per step; the inference forward does
/// none of that. Families differ only by config and the inference's own key mapping (<see cref="CheckpointLayout"/>):
/// DistilBERT has no token types and classifies ReLU(pre_classifier(h[CLS])); RoBERTa counts positions from
/// pad_token_id + 1 and classifies out_proj(tanh(dense(h[CLS]))); ALBERT projects its E-wide embeddings to H and runs
/// shared layer groups (their gradients are summed over every use). Eval mode unless <see cref="DropoutOptions"/> are given.
/// </summary>
public sealed class BertTrainingModel
{
    public ModelConfig Config { get; }
    public ParameterSet Parameters { get; }
    /// <summary>The checkpoint keys' prefix ("bert.", "distilbert.", "roberta.", "albert." in task checkpoints; "" in bare ones).</summary>
    public string Prefix { get; }
    /// <summary>True when the checkpoint has a classification head (pooler or pre-classifier dense, then the classifier).</summary>
    public bool HasClassifier { get; }
    public int Labels { get; }
    internal CheckpointLayout Layout { get; }
    private readonly Epilogue _activation;
    /// <summary>The dense layer on the first token before the classifier: the pooler (BERT, ALBERT) or the pre-classifier
    /// (DistilBERT's pre_classifier, RoBERTa's classifier.dense); its activation is tanh except DistilBERT's ReLU.</summary>
    private readonly string? _headDense;
    private readonly bool _headTanh;
    /// <summary>False for DistilBERT, whose attention block has no dropout after out_lin (HF MultiHeadSelfAttention).</summary>
    private readonly bool _attentionOutputDropout;

    private BertTrainingModel(ModelConfig config, string prefix, ParameterSet parameters, bool hasClassifier)
    {
        Config = config; Prefix = prefix; Parameters = parameters; HasClassifier = hasClassifier;
        Layout = CheckpointLayout.For(config.Family, prefix);
        _activation = config.HiddenAct.ToEpilogue();
        _headDense = Layout.PreClassifier ?? Layout.Pooler;
        _headTanh = Layout.PreClassifier is null || Layout.PreClassifierActivation == HeadActivation.Tanh;
        _attentionOutputDropout = config.Family != ModelFamily.DistilBert;
        Labels = hasClassifier ? (int)parameters[Layout.Classifier + ".weight"].Shape[0] : 0;
    }

    /// <summary>Loads config.json and the weights of a model folder. Families without a training mapping are refused.</summary>
    public static BertTrainingModel Load(string directory)
    {
        var config = ModelConfig.Load(Path.Combine(directory, "config.json"));
        using var source = Checkpoint.Open(directory);
        return FromSource(config, source);
    }

    public static BertTrainingModel FromSource(ModelConfig config, ITensorSource source)
    {
        if (config.Family is not (ModelFamily.Bert or ModelFamily.DistilBert or ModelFamily.Roberta or ModelFamily.Albert)
            || config.MobileBert is not null || config.NormalizationType != NormalizationType.LayerNorm)
            throw new ModelConfigException($"training supports bert, distilbert, roberta (xlm-roberta, camembert) and albert checkpoints, not '{config.ModelType}'");
        if (config.PrunedHeads.Count > 0) throw new ModelConfigException("training does not support pruned attention heads yet");
        if (config.InnerGroupNum != 1) throw new ModelConfigException($"training supports ALBERT with inner_group_num 1, not {config.InnerGroupNum}");
        string prefix = CheckpointLayout.DetectPrefix(config.Family, n => source.TryGetInfo(n, out _));
        var layout = CheckpointLayout.For(config.Family, prefix);
        string? head = layout.PreClassifier ?? layout.Pooler;
        bool classifier = source.TryGetInfo(layout.Classifier + ".weight", out var cls) && head is not null && source.TryGetInfo(head + ".weight", out _);
        int labels = classifier ? (int)cls.Shape[0] : 0;
        return new BertTrainingModel(config, prefix, ParameterSet.Load(source, ParameterShapes(config, layout, classifier, labels)), classifier);
    }

    /// <summary>Every trainable tensor with its shape, in checkpoint order (ALBERT: each shared group once).</summary>
    internal static IEnumerable<(string, long[])> ParameterShapes(ModelConfig c, CheckpointLayout l, bool classifier, int labels)
    {
        long h = c.HiddenSize, i = c.IntermediateSize, e = c.EmbeddingSize;
        yield return (l.WordEmbeddings, [c.VocabSize, e]);
        yield return (l.PositionEmbeddings, [c.MaxPositionEmbeddings, e]);
        if (l.TokenTypeEmbeddings is { } tt) yield return (tt, [c.TypeVocabSize, e]);
        yield return (l.EmbeddingNorm + ".weight", [e]);
        yield return (l.EmbeddingNorm + ".bias", [e]);
        if (l.EmbeddingProjection is { } proj) { yield return (proj + ".weight", [h, e]); yield return (proj + ".bias", [h]); }
        for (int layer = 0; layer < c.WeightedLayers; layer++)
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
        string head = (l.PreClassifier ?? l.Pooler)!;
        yield return (head + ".weight", [h, h]); yield return (head + ".bias", [h]);
        yield return (l.Classifier + ".weight", [labels, h]); yield return (l.Classifier + ".bias", [labels]);
    }

    /// <summary>The weight group encoder layer <paramref name="layer"/> runs: itself, or ALBERT's shared group (as HF).</summary>
    private LayerKeys KeysOf(int layer) =>
        Layout.Layer(Config.Family == ModelFamily.Albert ? (int)(layer / ((double)Config.NumLayers / Config.NumHiddenGroups)) : layer);

    /// <summary>What the forward pass keeps for the backward pass.</summary>
    public sealed class Tape
    {
        internal TrainingBatch Batch = null!;
        internal DropoutOptions? Dropout;
        internal int[] Positions = [];
        internal float[] EmbXHat = [], EmbInvStd = [], EmbOut = [];
        internal LayerTape[] Layers = [];
        /// <summary>The last hidden states [Batch·Seq, Hidden].</summary>
        public float[] Hidden { get; internal set; } = [];
        internal float[] ClsRows = [], HeadPre = [], Pooled = [], PooledDropped = [];
        /// <summary>Classifier logits [Batch, Labels] (empty without a classifier).</summary>
        public float[] Logits { get; internal set; } = [];

        /// <summary>HF's hidden_states[k] [Batch·Seq, Hidden]: 0 = embedding output (ALBERT: after the E → H projection), k = layer k's output.</summary>
        public float[] HiddenState(int k) => k == Layers.Length ? Hidden : Layers[k].Input;
    }

    internal sealed class LayerTape
    {
        public float[] Input = [], Q = [], K = [], V = [], Probs = [], Context = [];
        public float[] AttnXHat = [], AttnInvStd = [], AttnOut = [];
        public float[] PreAct = [], Act = [], OutXHat = [], OutInvStd = [];
    }

    private float[] P(string name) => Parameters[name].Values;

    /// <summary>The positions each token reads: 0..S−1, or RoBERTa's pad + k for the k-th non-pad token and pad for pads.</summary>
    private int[] PositionsOf(TrainingBatch batch)
    {
        int s = batch.Seq, pad = Config.PadTokenId, counted = 0;
        var positions = new int[batch.Batch * s];
        for (int t = 0; t < positions.Length; t++)
        {
            if (t % s == 0) counted = 0;
            int id = batch.InputIds[t];
            positions[t] = !Config.PositionsFromPadding ? t % s : id == pad ? pad : pad + ++counted;
        }
        return positions;
    }

    public Tape Forward(TrainingBatch batch, int threads, DropoutOptions? dropout = null)
    {
        int b = batch.Batch, s = batch.Seq, t = b * s, h = Config.HiddenSize, inter = Config.IntermediateSize, e = Config.EmbeddingSize;
        int heads = Config.NumHeads, d = h / heads;
        if (s > Config.MaxSequenceLength) throw new InputException($"sequence length {s} exceeds the model's {Config.MaxSequenceLength} positions");
        dropout?.Validate();
        if (dropout is { IsActive: false }) dropout = null;
        double hp = dropout?.Hidden ?? 0;
        float eps = Config.LayerNormEps;
        foreach (var id in batch.InputIds)
            if ((uint)id >= (uint)Config.VocabSize) throw new InputException($"token id {id} is outside the vocabulary (size {Config.VocabSize})");
        if (Layout.TokenTypeEmbeddings is not null)
            foreach (var id in batch.TypeIds)
                if ((uint)id >= (uint)Config.TypeVocabSize) throw new InputException($"token type {id} is outside 0..{Config.TypeVocabSize - 1}");
        var tape = new Tape { Batch = batch, Dropout = dropout, Positions = PositionsOf(batch) };

        // Embeddings: (word + token type) + position, then LayerNorm (HF BertEmbeddings' order of additions; DistilBERT has
        // no types), dropout, then ALBERT's E → H projection.
        var emb = new float[(long)t * e];
        EmbeddingBackward.AddRows(P(Layout.WordEmbeddings), batch.InputIds, emb, e);
        if (Layout.TokenTypeEmbeddings is { } types) EmbeddingBackward.AddRows(P(types), batch.TypeIds, emb, e);
        EmbeddingBackward.AddRows(P(Layout.PositionEmbeddings), tape.Positions, emb, e);
        var x = new float[emb.Length];
        tape.EmbXHat = new float[emb.Length]; tape.EmbInvStd = new float[t];
        LayerNormBackward.Forward(emb, P(Layout.EmbeddingNorm + ".weight"), P(Layout.EmbeddingNorm + ".bias"), x, tape.EmbXHat, tape.EmbInvStd, t, e, eps);
        dropout?.Apply(x, DropoutOptions.EmbeddingSite, hp);
        if (Layout.EmbeddingProjection is { } projection) { tape.EmbOut = x; x = Linear(x, projection, t, h, e, threads); }

        tape.Layers = new LayerTape[Config.NumLayers];
        for (int layer = 0; layer < Config.NumLayers; layer++)
        {
            var k = KeysOf(layer);
            var lt = tape.Layers[layer] = new LayerTape { Input = x };
            lt.Q = Linear(x, k.Query, t, h, h, threads);
            lt.K = Linear(x, k.Key, t, h, h, threads);
            lt.V = Linear(x, k.Value, t, h, h, threads);
            lt.Context = new float[(long)t * h]; lt.Probs = new float[(long)b * heads * s * s];
            AttentionBackward.Forward(lt.Q, lt.K, lt.V, batch.AttentionMask, lt.Context, lt.Probs, b, s, heads, d, threads,
                dropout, DropoutOptions.AttentionProbsSite(layer));
            var pre = Linear(lt.Context, k.AttentionOutput, t, h, h, threads);
            if (_attentionOutputDropout) dropout?.Apply(pre, DropoutOptions.AttentionOutputSite(layer), hp);
            for (int i = 0; i < pre.Length; i++) pre[i] += x[i];
            lt.AttnOut = new float[pre.Length]; lt.AttnXHat = new float[pre.Length]; lt.AttnInvStd = new float[t];
            LayerNormBackward.Forward(pre, P(k.AttentionNorm + ".weight"), P(k.AttentionNorm + ".bias"), lt.AttnOut, lt.AttnXHat, lt.AttnInvStd, t, h, eps);
            lt.PreAct = Linear(lt.AttnOut, k.Intermediate, t, inter, h, threads);
            lt.Act = new float[lt.PreAct.Length];
            ActivationBackward.Forward(_activation, lt.PreAct, lt.Act);
            var pre2 = Linear(lt.Act, k.Output, t, h, inter, threads);
            dropout?.Apply(pre2, DropoutOptions.FeedForwardSite(layer), hp);
            for (int i = 0; i < pre2.Length; i++) pre2[i] += lt.AttnOut[i];
            x = new float[pre2.Length]; lt.OutXHat = new float[pre2.Length]; lt.OutInvStd = new float[t];
            LayerNormBackward.Forward(pre2, P(k.OutputNorm + ".weight"), P(k.OutputNorm + ".bias"), x, lt.OutXHat, lt.OutInvStd, t, h, eps);
        }
        tape.Hidden = x;
        if (!HasClassifier) return tape;

        // The head: dense on the [CLS] row (pooler or pre-classifier), tanh (ReLU for DistilBERT), dropout, classifier.
        tape.ClsRows = new float[(long)b * h];
        for (int r = 0; r < b; r++) Array.Copy(x, (long)r * s * h, tape.ClsRows, (long)r * h, h);
        tape.HeadPre = Linear(tape.ClsRows, _headDense!, b, h, h, threads);
        tape.Pooled = new float[tape.HeadPre.Length];
        if (_headTanh) ActivationBackward.TanhForward(tape.HeadPre, tape.Pooled);
        else ActivationBackward.Forward(Epilogue.Relu, tape.HeadPre, tape.Pooled);
        tape.PooledDropped = tape.Pooled;
        if (dropout is not null) { tape.PooledDropped = (float[])tape.Pooled.Clone(); dropout.Apply(tape.PooledDropped, DropoutOptions.HeadSite(Config.NumLayers), hp); }
        tape.Logits = Linear(tape.PooledDropped, Layout.Classifier, b, Labels, h, threads);
        return tape;
    }

    /// <summary>
    /// Adds d loss / d parameter to <paramref name="grads"/> (a <see cref="ParameterSet.ZerosLike"/> of
    /// <see cref="Parameters"/>) given d loss / d logits and/or d loss / d last hidden states (either may be null).
    /// </summary>
    public void Backward(Tape tape, float[]? dLogits, float[]? dHidden, ParameterSet grads, int threads)
    {
        var dStates = new float[]?[Config.NumLayers + 1];
        dStates[Config.NumLayers] = dHidden;
        BackwardFromHiddenStates(tape, dLogits, dStates, grads, threads);
    }

    /// <summary>
    /// The general backward: <paramref name="dHiddenStates"/>[k] (null = none) is d loss / d <see cref="Tape.HiddenState"/>(k)
    /// for k = 0..layers, so losses on intermediate layers enter where the forward produced them.
    /// </summary>
    public void BackwardFromHiddenStates(Tape tape, float[]? dLogits, float[]?[] dHiddenStates, ParameterSet grads, int threads)
    {
        var batch = tape.Batch;
        var dropout = tape.Dropout;
        double hp = dropout?.Hidden ?? 0;
        int b = batch.Batch, s = batch.Seq, t = b * s, h = Config.HiddenSize, inter = Config.IntermediateSize, e = Config.EmbeddingSize;
        int heads = Config.NumHeads, d = h / heads;
        if (dHiddenStates.Length != Config.NumLayers + 1) throw new ArgumentException("one gradient slot per hidden state (layers + 1)", nameof(dHiddenStates));
        var dx = dHiddenStates[Config.NumLayers] is { } last ? (float[])last.Clone() : new float[(long)t * h];
        if (dLogits is not null)
        {
            if (!HasClassifier) throw new InvalidOperationException("logit gradients need a classifier");
            var dPooled = LinearBack(tape.PooledDropped, dLogits, Layout.Classifier, grads, b, Labels, h, threads);
            dropout?.Apply(dPooled, DropoutOptions.HeadSite(Config.NumLayers), hp);
            if (_headTanh) ActivationBackward.TanhBackward(tape.Pooled, dPooled, dPooled);
            else ActivationBackward.Backward(Epilogue.Relu, tape.HeadPre, dPooled, dPooled);
            var dCls = LinearBack(tape.ClsRows, dPooled, _headDense!, grads, b, h, h, threads);
            for (int r = 0; r < b; r++)
                for (int i = 0; i < h; i++) dx[(long)r * s * h + i] += dCls[r * h + i];
        }

        for (int layer = Config.NumLayers - 1; layer >= 0; layer--)
        {
            var k = KeysOf(layer);
            var lt = tape.Layers[layer];
            // out = LN2(dropout(Output(act(Intermediate(attnOut)))) + attnOut)
            var dPre2 = new float[dx.Length];
            LayerNormBackward.Backward(dx, lt.OutXHat, lt.OutInvStd, P(k.OutputNorm + ".weight"), dPre2,
                grads[k.OutputNorm + ".weight"].Values, grads[k.OutputNorm + ".bias"].Values, t, h);
            var dAct = LinearBack(lt.Act, Masked(dPre2, dropout, DropoutOptions.FeedForwardSite(layer), hp), k.Output, grads, t, h, inter, threads);
            ActivationBackward.Backward(_activation, lt.PreAct, dAct, dAct);
            var dAttnOut = LinearBack(lt.AttnOut, dAct, k.Intermediate, grads, t, inter, h, threads);
            for (int i = 0; i < dAttnOut.Length; i++) dAttnOut[i] += dPre2[i];
            // attnOut = LN1(dropout(AttentionOutput(attention(Q x, K x, V x))) + x)
            var dPre1 = new float[dx.Length];
            LayerNormBackward.Backward(dAttnOut, lt.AttnXHat, lt.AttnInvStd, P(k.AttentionNorm + ".weight"), dPre1,
                grads[k.AttentionNorm + ".weight"].Values, grads[k.AttentionNorm + ".bias"].Values, t, h);
            var dContext = LinearBack(lt.Context, Masked(dPre1, _attentionOutputDropout ? dropout : null, DropoutOptions.AttentionOutputSite(layer), hp), k.AttentionOutput, grads, t, h, h, threads);
            var dQ = new float[dx.Length]; var dK = new float[dx.Length]; var dV = new float[dx.Length];
            AttentionBackward.Backward(lt.Q, lt.K, lt.V, lt.Probs, dContext, dQ, dK, dV, b, s, heads, d, threads,
                dropout, DropoutOptions.AttentionProbsSite(layer));
            var dIn = dPre1;
            foreach (var (grad, key) in new[] { (dQ, k.Query), (dK, k.Key), (dV, k.Value) })
            {
                var part = LinearBack(lt.Input, grad, key, grads, t, h, h, threads);
                for (int i = 0; i < dIn.Length; i++) dIn[i] += part[i];
            }
            if (dHiddenStates[layer] is { } inject) for (int i = 0; i < dIn.Length; i++) dIn[i] += inject[i];
            dx = dIn;
        }

        if (Layout.EmbeddingProjection is { } projection) dx = LinearBack(tape.EmbOut, dx, projection, grads, t, h, e, threads);
        dropout?.Apply(dx, DropoutOptions.EmbeddingSite, hp);
        var dE = new float[dx.Length];
        LayerNormBackward.Backward(dx, tape.EmbXHat, tape.EmbInvStd, P(Layout.EmbeddingNorm + ".weight"), dE,
            grads[Layout.EmbeddingNorm + ".weight"].Values, grads[Layout.EmbeddingNorm + ".bias"].Values, t, e);
        EmbeddingBackward.Backward(dE, batch.InputIds, grads[Layout.WordEmbeddings].Values, e, Config.PadTokenId);
        if (Layout.TokenTypeEmbeddings is { } types) EmbeddingBackward.Backward(dE, batch.TypeIds, grads[types].Values, e, -1);
        // RoBERTa's position table has padding_idx = pad_token_id too (the row pads read gets no gradient).
        EmbeddingBackward.Backward(dE, tape.Positions, grads[Layout.PositionEmbeddings].Values, e, Config.PositionsFromPadding ? Config.PadTokenId : -1);
    }

    /// <summary>dY ⊙ dropout mask (a copy), or dY itself without dropout.</summary>
    private static float[] Masked(float[] dY, DropoutOptions? dropout, int site, double p)
    {
        if (dropout is null || p <= 0) return dY;
        var copy = (float[])dY.Clone();
        dropout.Apply(copy, site, p);
        return copy;
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
