using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance;
using NativeTransformer.Kernels;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// What sits on top of the encoder's last hidden state [B, S, H]: sentence pooling, BERT's pooler,
/// sequence classifiers and the masked-LM head. Each reads only the rows it needs.
/// </summary>
internal static class Heads
{
    /// <summary>
    /// Sentence embedding per row into <paramref name="output"/> [B, H], as sentence-transformers computes
    /// it: mean over tokens with mask 1, the first ([CLS]) token, or the max over tokens with mask 1;
    /// then optionally divided by max(‖x‖₂, 1e-12).
    /// </summary>
    public static void Pool(ReadOnlySpan<float> hidden, EncodedBatch batch, int h, PoolingMode mode, bool normalize, Span<float> output)
    {
        var pooled = output.AsSpan2D(batch.BatchSize, h);
        for (int b = 0; b < batch.BatchSize; b++)
        {
            var dst = pooled.GetRowSpan(b);
            int valid = batch.Lengths[b];
            var tokens = Tokens(hidden, b, batch.SeqLen, h);
            switch (mode)
            {
                case PoolingMode.Cls:
                    tokens.GetRowSpan(0).CopyTo(dst);
                    break;
                case PoolingMode.Max:
                    tokens.GetRowSpan(0).CopyTo(dst);
                    for (int t = 1; t < valid; t++) TensorPrimitives.Max(dst, tokens.GetRowSpan(t), dst);
                    break;
                default:
                    dst.Clear();
                    for (int t = 0; t < valid; t++) TensorPrimitives.Add(dst, tokens.GetRowSpan(t), dst);
                    TensorPrimitives.Multiply(dst, 1f / Math.Max(valid, 1), dst);
                    break;
            }
            if (normalize) TensorPrimitives.Multiply(dst, 1f / MathF.Max(TensorPrimitives.Norm(dst), 1e-12f), dst);
        }
    }

    /// <summary>Batch row <paramref name="b"/> of the hidden state [B, S, H] as a [S, H] view.</summary>
    private static ReadOnlySpan2D<float> Tokens(ReadOnlySpan<float> hidden, int b, int seq, int h) =>
        hidden.AsSpan2D(b * seq * h, seq, h, 0);

    /// <summary>Copies each batch row's first ([CLS]) token of the hidden state [B, S, H] into
    /// <paramref name="output"/> [B, H]: the first tokens are a [B, H] view whose rows are S * H apart.</summary>
    public static void FirstTokens(ReadOnlySpan<float> hidden, int batch, int seq, int h, Span<float> output) =>
        hidden.AsSpan2D(0, batch, h, (seq - 1) * h).CopyTo(output);

    /// <summary>BERT/ALBERT pooler: tanh(W · h[b, 0] + bias) into <paramref name="output"/> [B, H].</summary>
    public static void Pooler(ReadOnlySpan<float> hidden, int batch, int seq, LinearWeights pooler, Span<float> output, Span<float> firstTokens)
    {
        int h = pooler.In;
        FirstTokens(hidden, batch, seq, h, firstTokens);
        Gemm.ComputeSerial(firstTokens[..(batch * h)], pooler.Weight.Span, pooler.Bias.Span, output, batch, pooler.Out, h);
        Activations.Tanh(output[..(batch * pooler.Out)]);
    }

    /// <summary>
    /// Classifier logits [B, C]. BERT/ALBERT: classifier(pooled). DistilBERT: classifier(ReLU(pre_classifier(h[b, 0]))).
    /// RoBERTa: out_proj(tanh(dense(h[b, 0]))). <paramref name="pooled"/> is the pooler output, or with a pre-classifier
    /// the first-token rows [B, H].
    /// </summary>
    public static void Classify(ReadOnlySpan<float> pooled, int batch, HeadWeights heads, Span<float> logits, Span<float> scratch)
    {
        var classifier = heads.Classifier!;
        var input = pooled;
        if (heads.PreClassifier is { } pre)
        {
            Gemm.ComputeSerial(pooled[..(batch * pre.In)], pre.Weight.Span, pre.Bias.Span, scratch, batch, pre.Out, pre.In);
            if (heads.PreClassifierActivation == HeadActivation.Tanh) Activations.Tanh(scratch[..(batch * pre.Out)]);
            else Activations.Relu(scratch[..(batch * pre.Out)]);
            input = scratch;
        }
        Gemm.ComputeSerial(input[..(batch * classifier.In)], classifier.Weight.Span, classifier.Bias.Span, logits, batch, classifier.Out, classifier.In);
    }

    /// <summary>Masked-LM logits [V] for one token's hidden state [H]: decoder(LayerNorm(act(transform(h)))) + bias.</summary>
    public static void MaskedLmLogits(ReadOnlySpan<float> tokenHidden, MaskedLmWeights mlm, ModelConfig config, Span<float> logits, int threads)
    {
        var t = mlm.Transform;
        var transformed = new float[t.Out];
        Gemm.ComputeSerial(tokenHidden, t.Weight.Span, t.Bias.Span, transformed, 1, t.Out, t.In);
        // RobertaLMHead applies exact GELU whatever hidden_act says; BERT/ALBERT/DistilBERT heads follow the config.
        Activations.Apply(transformed, config.Family == ModelFamily.Roberta ? Epilogue.Gelu : config.HiddenAct.ToEpilogue());
        LayerNorm.AddResidualAndNormalize(transformed, default, mlm.Norm.Gamma.Span, mlm.Norm.Beta.Span, 1, t.Out, config.LayerNormEps);
        Gemm.Compute(transformed, mlm.Decoder.Span, mlm.Bias.Span, logits, 1, config.VocabSize, t.Out, threads);
    }
}
