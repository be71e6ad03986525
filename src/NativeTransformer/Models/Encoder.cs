using NativeTransformer.Kernels;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// The BERT-family encoder (BERT, DistilBERT, ALBERT: one code path; families differ only in config
/// and weight names). Post-LayerNorm blocks, as in "Attention Is All You Need" and BERT:
/// <code>
///   h₀ = LayerNorm(word[ids] + position[0..S) + type[types])      (· W_proj for ALBERT)
///   a  = LayerNorm(h + SelfAttention(h) · W_oᵀ)
///   h' = LayerNorm(a + act(a · W_1ᵀ) · W_2ᵀ)
/// </code>
/// Batches are right-padded: row b has <c>Lengths[b]</c> real tokens, so the attention mask is a
/// prefix and padded keys get probability exactly 0 (see <see cref="Softmax.MaskedRow"/>). Padded
/// query positions are computed like real ones. Each row's values are bitwise independent of the
/// other rows and of the padded length.
/// </summary>
internal sealed class Encoder(ModelConfig config, EncoderWeights weights, int threads)
{
    public ModelConfig Config { get; } = config;
    public EncoderWeights Weights { get; } = weights;
    public int Threads { get; } = Math.Max(1, threads);

    /// <summary>
    /// Runs the encoder on <paramref name="batch"/>. The last hidden state is left in
    /// <see cref="RunState.Hidden"/> [B, S, H]. When <paramref name="captureHidden"/> is given, entry i
    /// receives hidden_states.i (0 = embedding output), each [B, S, H].
    /// </summary>
    public void Forward(RunState s, EncodedBatch batch, float[][]? captureHidden = null)
    {
        int b = batch.BatchSize, seq = batch.SeqLen, h = Config.HiddenSize;
        if (!s.Fits(b, seq)) throw new InvalidOperationException("RunState too small for this batch");
        if (seq > Config.MaxPositionEmbeddings)
            throw new InputException($"sequence of {seq} tokens exceeds max_position_embeddings {Config.MaxPositionEmbeddings}");
        int tokens = b * seq;
        var hidden = s.Hidden.AsSpan(0, tokens * h);

        Embed(s, batch);
        if (captureHidden != null) hidden.CopyTo(captureHidden[0]);

        for (int l = 0; l < Weights.Layers.Length; l++)
        {
            var layer = Weights.Layers[l];
            Linear(hidden, layer.Query, s.Query, tokens);
            Linear(hidden, layer.Key, s.Key, tokens);
            Linear(hidden, layer.Value, s.Value, tokens);
            SelfAttention(s, batch);                                                     // Context = softmax(QKᵀ/√D)·V

            Linear(s.Context.AsSpan(0, tokens * h), layer.AttentionOutput, s.Attended, tokens);
            Norm(s.Attended, hidden, layer.AttentionNorm, tokens);                        // a = LN(h + ·)

            Linear(s.Attended.AsSpan(0, tokens * h), layer.Intermediate, s.Ffn, tokens);
            Activate(s.Ffn.AsSpan(0, tokens * Config.IntermediateSize));
            Linear(s.Ffn.AsSpan(0, tokens * Config.IntermediateSize), layer.Output, s.Hidden, tokens);
            Norm(s.Hidden, s.Attended.AsSpan(0, tokens * h), layer.OutputNorm, tokens);  // h' = LN(a + ·)

            if (captureHidden != null) hidden.CopyTo(captureHidden[l + 1]);
        }
    }

    /// <summary>word + position + token type, LayerNorm, and ALBERT's projection from E to H.</summary>
    private void Embed(RunState s, EncodedBatch batch)
    {
        var emb = Weights.Embeddings;
        int e = Config.EmbeddingSize, seq = batch.SeqLen, tokens = batch.BatchSize * seq;
        var target = emb.Projection is null ? s.Hidden.AsSpan(0, tokens * e) : s.Embedded.AsSpan(0, tokens * e);
        var word = emb.Word.Span; var position = emb.Position.Span; var type = emb.TokenType.Span;
        for (int t = 0; t < tokens; t++)
        {
            int id = batch.InputIds[t];
            if ((uint)id >= (uint)Config.VocabSize) throw new InputException($"token id {id} is outside the vocabulary (size {Config.VocabSize})");
            var row = target.Slice(t * e, e);
            word.Slice(id * e, e).CopyTo(row);
            System.Numerics.Tensors.TensorPrimitives.Add(row, position.Slice(t % seq * e, e), row);
            if (!type.IsEmpty)
            {
                int tt = batch.TypeIds[t];
                if ((uint)tt >= (uint)Config.TypeVocabSize) throw new InputException($"token type {tt} is outside type_vocab_size {Config.TypeVocabSize}");
                System.Numerics.Tensors.TensorPrimitives.Add(row, type.Slice(tt * e, e), row);
            }
        }
        LayerNorm.AddResidualAndNormalize(target, default, emb.Norm.Gamma.Span, emb.Norm.Beta.Span, tokens, e, Config.LayerNormEps);
        if (emb.Projection is { } p) Linear(target, p, s.Hidden, tokens);
    }

    /// <summary>Multi-head self-attention over Query/Key/Value into Context, one (row, head) problem per work item.</summary>
    private void SelfAttention(RunState s, EncodedBatch batch)
    {
        int seq = batch.SeqLen, h = Config.HiddenSize, heads = Config.NumHeads, d = Config.HeadSize;
        float scale = 1f / MathF.Sqrt(d);
        int workers = Math.Min(Threads, s.Workers.Length);
        Workers.For(batch.BatchSize * heads, workers, (start, end, worker) =>
        {
            var w = s.Workers[worker];
            for (int item = start; item < end; item++)
            {
                int row = item / heads, head = item % heads, valid = batch.Lengths[row];
                int baseOffset = row * seq * h + head * d;
                // Gather this head's Q and K as [S, D] and V as [D, valid] so both products are x·wᵀ.
                for (int i = 0; i < seq; i++)
                {
                    s.Query.AsSpan(baseOffset + i * h, d).CopyTo(w.Q.AsSpan(i * d, d));
                    if (i < valid)
                    {
                        s.Key.AsSpan(baseOffset + i * h, d).CopyTo(w.K.AsSpan(i * d, d));
                        for (int j = 0; j < d; j++) w.VTransposed[j * valid + i] = s.Value[baseOffset + i * h + j];
                    }
                }
                var scores = w.Scores.AsSpan(0, seq * valid);
                Gemm.ComputeSerial(w.Q, w.K, default, scores, seq, valid, d);       // [S, valid]
                System.Numerics.Tensors.TensorPrimitives.Multiply(scores, scale, scores);
                for (int i = 0; i < seq; i++) Softmax.MaskedRow(scores.Slice(i * valid, valid), valid);
                Gemm.ComputeSerial(scores, w.VTransposed, default, w.Context, seq, d, valid); // [S, D]
                for (int i = 0; i < seq; i++) w.Context.AsSpan(i * d, d).CopyTo(s.Context.AsSpan(baseOffset + i * h, d));
            }
        });
    }

    private void Linear(ReadOnlySpan<float> x, LinearWeights w, Span<float> y, int rows) =>
        Gemm.Compute(x, w.Weight.Span, w.Bias.Span, y, rows, w.Out, w.In, Threads);

    private void Norm(Span<float> x, ReadOnlySpan<float> residual, LayerNormWeights w, int rows) =>
        LayerNorm.AddResidualAndNormalize(x[..(rows * w.Width)], residual, w.Gamma.Span, w.Beta.Span, rows, w.Width, Config.LayerNormEps);

    private void Activate(Span<float> x)
    {
        switch (Config.HiddenAct)
        {
            case Activation.Gelu: Activations.Gelu(x); break;
            case Activation.GeluTanh: Activations.GeluTanh(x); break;
            default: Activations.Relu(x); break;
        }
    }
}
