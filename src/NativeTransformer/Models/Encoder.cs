using System.Runtime.CompilerServices;
using NativeTransformer.Kernels;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// The BERT-family encoder (BERT, DistilBERT, ALBERT, RoBERTa/XLM-R/CamemBERT: one code path; families differ only in config
/// and weight names). Post-LayerNorm blocks, as in "Attention Is All You Need" and BERT:
/// <code>
///   h₀ = LayerNorm(word[ids] + position[pos] + type[types])        (· W_projᵀ for ALBERT)
///   pos = 0..S-1; RoBERTa: pad + 1, pad + 2, … over non-pad ids, pad at pad ids
///   a  = LayerNorm(h + SelfAttention(h) · W_oᵀ)
///   h' = LayerNorm(a + GELU(a · W_1ᵀ) · W_2ᵀ)
/// </code>
/// Bias, activation and residual are fused into the GEMMs' epilogues. Batches are right-padded: row b
/// has <c>Lengths[b]</c> real tokens; padded query positions are computed like real ones. Each row's
/// values are bitwise independent of the other rows, the padded length and the thread count.
/// <see cref="Forward"/> allocates nothing: every buffer lives in the <see cref="RunState"/>.
/// </summary>
internal sealed unsafe class Encoder(ModelConfig config, EmbeddingWeights embeddings, LinearOperator? projection, EncoderLayer[] layers, WorkerPool pool)
{
    public ModelConfig Config { get; } = config;
    public EncoderLayer[] Layers { get; } = layers;
    public WorkerPool Pool { get; } = pool;
    /// <summary>ALBERT's E → H projection operator, or null.</summary>
    public LinearOperator? Projection => projection;

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
                $"(max_position_embeddings {Config.MaxPositionEmbeddings}{(Config.PositionsFromPadding ? $" less pad_token_id {Config.PadTokenId} + 1" : "")})");
        var k = s.Kernels;
        fixed (float* hidden = s.Hidden, qkv = s.Qkv, context = s.Context, attended = s.Attended, ffn = s.Ffn, embedded = s.Embedded)
        {
            Embed(s, batch);
            if (projection != null) projection.Forward(embedded, tokens, hidden, Epilogue.None, null, k);
            Capture(captureHidden, 0, s.Hidden, tokens * h);

            for (int l = 0; l < Layers.Length; l++)
            {
                var layer = Layers[l];
                layer.Qkv.Forward(hidden, tokens, qkv, Epilogue.None, null, k);              // [q | k | v]
                s.Attention.Batch = batch;
                s.Attention.Heads = layer.Qkv.Out / (3 * Config.HeadSize);                  // fewer when pruned
                Pool.For(b * s.Attention.Heads, s.Attention);                               // context = softmax(qkᵀ/√D)·v
                layer.AttentionOutput.Forward(context, tokens, attended, Epilogue.None, hidden, k);
                Norm(s, s.Attended, layer.AttentionNorm, tokens);                              // a = LN(h + ·)
                layer.Intermediate.Forward(attended, tokens, ffn, Activation(), null, k);   // GELU(a·W₁ᵀ)
                layer.Output.Forward(ffn, tokens, hidden, Epilogue.None, attended, k);
                Norm(s, s.Hidden, layer.OutputNorm, tokens);                                  // h' = LN(a + ·)
                Capture(captureHidden, l + 1, s.Hidden, tokens * h);
            }
        }
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
            System.Numerics.Tensors.TensorPrimitives.Add(row, position.Slice(p * e, e), row);
            if (type.IsEmpty) continue;
            int tt = batch.TypeIds[t];
            if ((uint)tt >= (uint)Config.TypeVocabSize) throw new InputException($"token type {tt} is outside type_vocab_size {Config.TypeVocabSize}");
            System.Numerics.Tensors.TensorPrimitives.Add(row, type.Slice(tt * e, e), row);
        }
        LayerNorm.AddResidualAndNormalize(target, default, embeddings.Norm.Gamma.Span, embeddings.Norm.Beta.Span, tokens, e, Config.LayerNormEps);
    }

    private void Norm(RunState s, float[] x, LayerNormWeights w, int rows) => s.Norm.Run(Pool, x, w, rows);

    private Epilogue Activation() => Config.HiddenAct.ToEpilogue();

    private static void Capture(float[][]? capture, int index, float[] hidden, int length)
    {
        if (capture != null) hidden.AsSpan(0, length).CopyTo(capture[index]);
    }
}
