using System.Runtime.CompilerServices;
using NativeTransformer.Kernels;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// The BERT-family encoder (BERT, DistilBERT, ALBERT, RoBERTa/XLM-R/CamemBERT, Longformer: one code path; families differ only
/// in config and weight names). Post-LayerNorm blocks, as in "Attention Is All You Need" and BERT:
/// <code>
///   h₀ = LayerNorm(word[ids] + position[pos] + type[types])        (· W_projᵀ for ALBERT)
///   pos = 0..S-1; RoBERTa, Longformer: pad + 1, pad + 2, … over non-pad ids, pad at pad ids
///   a  = LayerNorm(h + SelfAttention(h) · W_oᵀ)
///   h' = LayerNorm(a + GELU(a · W_1ᵀ) · W_2ᵀ)
/// </code>
/// MobileBERT (see <see cref="MobileBertOptions"/>) is the same block with its variants switched on: word rows (with their
/// neighbours, trigram) projected to H before positions are added, a bottleneck narrowing H to T before attention (its
/// output is the attention residual), stacked FFNs at width T, a bottleneck widening back to H (residual = block input),
/// and NoNorm for LayerNorm. Without them each step below is the identity.
/// T5 (see <see cref="T5Options"/>) switches on the pre-norm block (<see cref="PreNormLayer"/>: RMSNorm before attention and
/// before the FFN, residuals added after, a final RMSNorm after the last block), its relative position bias in attention and
/// its gated FFN; its embedding is the word row alone. Longformer (see <see cref="LongformerOptions"/>) is
/// RoBERTa with sliding-window attention plus global tokens (<see cref="LocalAttentionJob"/>) in place of full attention.
/// Bias, activation and residual are fused into the GEMMs' epilogues. Batches are right-padded: row b
/// has <c>Lengths[b]</c> real tokens; padded query positions are computed like real ones (Longformer gives them attention
/// output 0, as Hugging Face does). Each row's
/// values are bitwise independent of the other rows, the padded length and the thread count.
/// <see cref="Forward"/> allocates nothing: every buffer lives in the <see cref="RunState"/>.
/// </summary>
// paddedLength, for MobileBERT's trigram input: the length Hugging Face pads to (the model's max length). A row's last
// token sees the pad token as its right neighbour unless it ends at that length, where the neighbour is zero: what
// Hugging Face computes for a batch padded to max length, and independent of the other rows.
// finalNorm / relativeAttentionBias: T5's final_layer_norm and first-block relative_attention_bias [buckets, heads] (else null / empty).
internal sealed unsafe class Encoder(ModelConfig config, EmbeddingWeights embeddings, LinearOperator? projection, EncoderLayer[] layers, WorkerPool pool,
    int paddedLength = 0, LayerNormWeights? finalNorm = null, ReadOnlyMemory<float> relativeAttentionBias = default)
{
    private readonly RelativePositionBias? _positionBias = config.T5 is { } t5
        ? new RelativePositionBias(relativeAttentionBias.Span, t5, config.NumHeads, config.MaxSequenceLength) : null;
    public ModelConfig Config { get; } = config;
    public EncoderLayer[] Layers { get; } = layers;
    public WorkerPool Pool { get; } = pool;
    /// <summary>ALBERT's E → H projection (MobileBERT's embedding_transformation) operator, or null.</summary>
    public LinearOperator? Projection => projection;
    private readonly int _paddedLength = paddedLength > 0 ? paddedLength : config.MaxSequenceLength;
    /// <summary>Longformer: whether a batch without <see cref="EncodedBatch.GlobalAttention"/> puts global attention on
    /// each row's first token (Hugging Face's LongformerForSequenceClassification default) or on none.</summary>
    public bool FirstTokenGlobalByDefault { get; init; }

    /// <summary>
    /// Runs the encoder on <paramref name="batch"/>. The last hidden state is left in
    /// <see cref="RunState.Hidden"/> [B, S, H]. When <paramref name="captureHidden"/> is given, entry i
    /// receives hidden_states.i (0 = embedding output), each [B, S, H].
    /// </summary>
    public void Forward(RunState s, EncodedBatch batch, float[][]? captureHidden = null)
    {
        int b = batch.BatchSize, seq = batch.SeqLen, h = Config.HiddenSize, tokens = b * seq;
        if (!s.Fits(b, seq)) throw new InvalidOperationException("RunState too small for this batch");
        if (seq > Config.MaxSequenceLength)
            throw new InputException($"sequence of {seq} tokens exceeds this model's maximum of {Config.MaxSequenceLength} " +
                $"({(Config.T5 is null ? "max_position_embeddings" : "n_positions")} {Config.MaxPositionEmbeddings}{(Config.PositionsFromPadding ? $" less pad_token_id {Config.PadTokenId} + 1" : "")})");
        var k = s.Kernels;
        bool qkFromLayerInput = Config.MobileBert is { UseBottleneckAttention: true };
        fixed (float* hidden = s.Hidden, qkv = s.Qkv, context = s.Context, attended = s.Attended, ffn = s.Ffn, embedded = s.Embedded,
               layerInputBuffer = s.LayerInput, sharedInput = s.SharedInput, attended2 = s.Attended2, nextHidden = s.NextHidden)
        {
            if (Config.ProjectsWordEmbeddings) EmbedProjectedWords(s, batch, embedded, hidden);
            else
            {
                Embed(s, batch);
                if (projection != null) projection.Forward(embedded, tokens, hidden, Epilogue.None, null, k);
            }
            Capture(captureHidden, 0, s.Hidden, tokens * h);
            bool anyGlobal = Config.Longformer is not null && LongformerGlobals.Collect(batch, FirstTokenGlobalByDefault, s.GlobalPositions, s.GlobalCounts);

            for (int l = 0; l < Layers.Length; l++)
            {
                var layer = Layers[l];
                if (Config.T5 is not null)
                {
                    PreNormLayer(s, layer, batch, hidden, attended, qkv, context, ffn);
                    Capture(captureHidden, l + 1, s.Hidden, tokens * h);
                    continue;
                }
                // MobileBERT's bottlenecks: the narrowed input is the attention residual; query/key may read their own.
                float* layerInput = hidden, qkInput = hidden;
                if (layer.InputBottleneck is { } ib) layerInput = Bottleneck(s, ib, hidden, layerInputBuffer, s.LayerInput, tokens);
                if (layer.AttentionBottleneck is { } ab) qkInput = Bottleneck(s, ab, hidden, sharedInput, s.SharedInput, tokens);
                else if (qkFromLayerInput) qkInput = layerInput;

                layer.Qkv.Forward(qkInput, tokens, qkv, Epilogue.None, null, k);              // [q | k | v], or [q | k]
                if (layer.Value is { } value) value.Forward(hidden, tokens, qkv + (long)tokens * layer.Qkv.Out, Epilogue.None, null, k);
                if (Config.Longformer is { } lf) LocalAttention(s, batch, layer, lf.OneSidedWindow(l), anyGlobal, qkInput);
                else
                {
                    s.Attention.Batch = batch;
                    s.Attention.SeparateValue = layer.Value is not null;
                    s.Attention.Heads = layer.Qkv.Out / ((layer.Value is null ? 3 : 2) * Config.HeadSize); // fewer when pruned
                    Pool.For(b * s.Attention.Heads, s.Attention);                            // context = softmax(qkᵀ/√D)·v
                }
                layer.AttentionOutput.Forward(context, tokens, attended, Epilogue.None, layerInput, k);
                Norm(s, s.Attended, layer.AttentionNorm, tokens);                              // a = LN(h + ·)

                // MobileBERT's stacked FFNs, each a = LN(a + FFN(a)), ping-ponging between two buffers.
                float* a = attended, other = attended2;
                float[] aArray = s.Attended, otherArray = s.Attended2;
                foreach (var f in layer.ExtraFeedForwards)
                {
                    f.Intermediate.Forward(a, tokens, ffn, Activation(), null, k);
                    f.Output.Forward(ffn, tokens, other, Epilogue.None, a, k);
                    Norm(s, otherArray, f.Norm, tokens);
                    float* swap = a; a = other; other = swap;
                    (aArray, otherArray) = (otherArray, aArray);
                }

                layer.Intermediate.Forward(a, tokens, ffn, Activation(), null, k);            // GELU(a·W₁ᵀ)
                if (layer.OutputBottleneck is { } ob)
                {
                    layer.Output.Forward(ffn, tokens, other, Epilogue.None, a, k);
                    Norm(s, otherArray, layer.OutputNorm, tokens);
                    ob.Dense.Forward(other, tokens, nextHidden, Epilogue.None, hidden, k);      // widen back to H, residual = block input
                    Norm(s, s.NextHidden, ob.Norm, tokens);
                    s.NextHidden.AsSpan(0, tokens * h).CopyTo(s.Hidden);
                }
                else
                {
                    layer.Output.Forward(ffn, tokens, hidden, Epilogue.None, a, k);
                    Norm(s, s.Hidden, layer.OutputNorm, tokens);                              // h' = LN(a + ·)
                }
                Capture(captureHidden, l + 1, s.Hidden, tokens * h);
            }
            if (finalNorm is not null)
            {
                Norm(s, s.Hidden, finalNorm, tokens);                                          // T5: hidden_states.L is after it
                Capture(captureHidden, Layers.Length, s.Hidden, tokens * h);
            }
        }
    }

    /// <summary>
    /// T5's pre-norm block on Hidden, with Attended holding the normed input and then the new residual stream:
    /// h ← h + o(Attention(RMSNorm(h)) + position bias); h ← h + wo(act(wi(RMSNorm(h)))) (gated: act(wi_0(x)) ⊙ wi_1(x)).
    /// </summary>
    private void PreNormLayer(RunState s, EncoderLayer layer, EncodedBatch batch, float* hidden, float* attended, float* qkv, float* context, float* ffn)
    {
        var k = s.Kernels;
        int tokens = batch.BatchSize * batch.SeqLen, h = Config.HiddenSize;
        var stream = s.Hidden.AsSpan(0, tokens * h);
        stream.CopyTo(s.Attended);
        Norm(s, s.Attended, layer.AttentionNorm, tokens);
        layer.Qkv.Forward(attended, tokens, qkv, Epilogue.None, null, k);
        s.Attention.Batch = batch;
        s.Attention.SeparateValue = false;
        s.Attention.Heads = layer.Qkv.Out / (3 * Config.HeadSize);
        s.Attention.PositionBias = _positionBias;
        Pool.For(batch.BatchSize * s.Attention.Heads, s.Attention);                          // context = softmax(qkᵀ + bias)·v
        layer.AttentionOutput.Forward(context, tokens, attended, Epilogue.None, hidden, k);  // h + o(context)
        s.Attended.AsSpan(0, tokens * h).CopyTo(stream);
        Norm(s, s.Attended, layer.OutputNorm, tokens);
        layer.Intermediate.Forward(attended, tokens, ffn, Activation(), null, k);
        if (layer.Gate is { } gate)
        {
            fixed (float* g = s.Gate) gate.Forward(attended, tokens, g, Epilogue.None, null, k);
            int width = tokens * layer.Intermediate.Out;
            System.Numerics.Tensors.TensorPrimitives.Multiply(s.Ffn.AsSpan(0, width), s.Gate.AsSpan(0, width), s.Ffn.AsSpan(0, width));
        }
        layer.Output.Forward(ffn, tokens, attended, Epilogue.None, hidden, k);                // h + wo(·)
        s.Attended.AsSpan(0, tokens * h).CopyTo(stream);
    }

    /// <summary>Longformer: the global projections (only when some token is global), then banded attention into Context.</summary>
    private void LocalAttention(RunState s, EncodedBatch batch, EncoderLayer layer, int window, bool anyGlobal, float* input)
    {
        var job = s.LocalAttention!;
        if (anyGlobal)
            fixed (float* global = s.GlobalQkv)
                layer.GlobalQkv!.Forward(input, batch.BatchSize * batch.SeqLen, global, Epilogue.None, null, s.Kernels);
        job.Batch = batch;
        job.Window = window;
        job.Heads = layer.Qkv.Out / (3 * Config.HeadSize);
        Pool.For(batch.BatchSize * job.Heads * LocalAttentionJob.Chunks(batch.SeqLen), job);
    }

    /// <summary>norm(x · Wᵀ + bias) into <paramref name="output"/>; returns it.</summary>
    private float* Bottleneck(RunState s, Bottleneck neck, float* x, float* output, float[] outputArray, int tokens)
    {
        neck.Dense.Forward(x, tokens, output, Epilogue.None, null, s.Kernels);
        Norm(s, outputArray, neck.Norm, tokens);
        return output;
    }

    /// <summary>
    /// MobileBERT: each token's word row — with trigram_input, [next token's | its own | previous token's] (zero before the
    /// first; after a row's last token the pad token's, up to the padded length) — projected to H by embedding_transformation,
    /// then position + token type added and the norm applied, into Hidden.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EmbedProjectedWords(RunState s, EncodedBatch batch, float* embedded, float* hidden)
    {
        int e = Config.EmbeddingSize, w = Config.ProjectionInputSize, h = Config.HiddenSize, seq = batch.SeqLen, tokens = batch.BatchSize * seq;
        bool trigram = Config.MobileBert is { TrigramInput: true };
        var word = embeddings.Word;
        for (int t = 0; t < tokens; t++)
            if ((uint)batch.InputIds[t] >= (uint)Config.VocabSize) throw new InputException($"token id {batch.InputIds[t]} is outside the vocabulary (size {Config.VocabSize})");
        var rows = s.Embedded.AsSpan(0, tokens * w);
        for (int t = 0; t < tokens; t++)
        {
            var row = rows.Slice(t * w, w);
            if (!trigram) { word.CopyRow(batch.InputIds[t], row); continue; }
            int p = t % seq, length = batch.Lengths[t / seq];
            if (p + 1 < length) word.CopyRow(batch.InputIds[t + 1], row[..e]);
            else if (p + 1 < _paddedLength && (uint)Config.PadTokenId < (uint)Config.VocabSize) word.CopyRow(Config.PadTokenId, row[..e]);
            else row[..e].Clear();
            word.CopyRow(batch.InputIds[t], row.Slice(e, e));
            if (p > 0) word.CopyRow(batch.InputIds[t - 1], row.Slice(2 * e, e));
            else row.Slice(2 * e, e).Clear();
        }
        projection!.Forward(embedded, tokens, hidden, Epilogue.None, null, s.Kernels);
        var target = s.Hidden.AsSpan(0, tokens * h);
        var position = embeddings.Position.Span; var type = embeddings.TokenType.Span;
        for (int t = 0; t < tokens; t++)
        {
            var row = target.Slice(t * h, h);
            System.Numerics.Tensors.TensorPrimitives.Add(row, position.Slice(t % seq * h, h), row);
            int tt = batch.TypeIds[t];
            if ((uint)tt >= (uint)Config.TypeVocabSize) throw new InputException($"token type {tt} is outside type_vocab_size {Config.TypeVocabSize}");
            System.Numerics.Tensors.TensorPrimitives.Add(row, type.Slice(tt * h, h), row);
        }
        s.Norm.Apply(target, embeddings.Norm!, tokens);
    }

    /// <summary>word + position + token type, then LayerNorm, into Hidden (or Embedded when ALBERT projects E → H).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Embed(RunState s, EncodedBatch batch)
    {
        int e = Config.EmbeddingSize, seq = batch.SeqLen, tokens = batch.BatchSize * seq;
        var target = (projection is null ? s.Hidden : s.Embedded).AsSpan(0, tokens * e);
        var word = embeddings.Word; var position = embeddings.Position.Span; var type = embeddings.TokenType.Span;
        bool fromPadding = Config.PositionsFromPadding;
        int pad = Config.PadTokenId, counted = 0;
        for (int t = 0; t < tokens; t++)
        {
            int id = batch.InputIds[t];
            if ((uint)id >= (uint)Config.VocabSize) throw new InputException($"token id {id} is outside the vocabulary (size {Config.VocabSize})");
            var row = target.Slice(t * e, e);
            word.CopyRow(id, row); // fp32 or an int8 row dequantized here: never a full fp32 copy of the table
            // RoBERTa: the k-th non-pad token of a row (k from 1) sits at pad + k, pads at pad; seq ≤ MaxSequenceLength keeps it in the table.
            if (t % seq == 0) counted = 0;
            int p = !fromPadding ? t % seq : id == pad ? pad : pad + ++counted;
            if (!position.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Add(row, position.Slice(p * e, e), row); // T5: no positions
            if (type.IsEmpty) continue;
            int tt = batch.TypeIds[t];
            if ((uint)tt >= (uint)Config.TypeVocabSize) throw new InputException($"token type {tt} is outside type_vocab_size {Config.TypeVocabSize}");
            System.Numerics.Tensors.TensorPrimitives.Add(row, type.Slice(tt * e, e), row);
        }
        if (embeddings.Norm is { } norm) s.Norm.Apply(target, norm, tokens); // T5: none
    }

    private void Norm(RunState s, float[] x, LayerNormWeights w, int rows) => s.Norm.Run(Pool, x, w, rows);

    private Epilogue Activation() => Config.HiddenAct.ToEpilogue();

    private static void Capture(float[][]? capture, int index, float[] hidden, int length)
    {
        if (capture != null) hidden.AsSpan(0, length).CopyTo(capture[index]);
    }
}
