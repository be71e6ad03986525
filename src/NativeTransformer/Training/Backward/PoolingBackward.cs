namespace NativeTransformer.Training;

/// <summary>
/// Sentence embeddings as sentence-transformers make them: the mask-weighted mean of the token rows
/// (Σ m_t h_t / max(Σ m_t, 1e-9)) followed by L2 normalisation x / max(‖x‖₂, 1e-12) (F.normalize). Sums in double.
/// Backward: de → dx = (de − e·(e·de)) / ‖x‖ (when ‖x‖ &gt; 1e-12, else de / 1e-12), dh_t = m_t·dx / count.
/// </summary>
public static class PoolingBackward
{
    public static void MeanNormalizeForward(ReadOnlySpan<float> hidden, ReadOnlySpan<int> mask, Span<float> embedding, Span<float> norms,
        int batch, int seq, int width)
    {
        var acc = new double[width];
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(acc);
            double count = 0;
            for (int t = 0; t < seq; t++)
            {
                if (mask[b * seq + t] == 0) continue;
                count++;
                for (int i = 0; i < width; i++) acc[i] += hidden[(b * seq + t) * width + i];
            }
            count = Math.Max(count, 1e-9);
            double sq = 0;
            for (int i = 0; i < width; i++) { acc[i] /= count; sq += acc[i] * acc[i]; }
            double norm = Math.Max(Math.Sqrt(sq), 1e-12);
            norms[b] = (float)norm;
            for (int i = 0; i < width; i++) embedding[b * width + i] = (float)(acc[i] / norm);
        }
    }

    /// <summary>dHidden (overwritten) from dEmbedding.</summary>
    public static void MeanNormalizeBackward(ReadOnlySpan<float> dEmbedding, ReadOnlySpan<float> embedding, ReadOnlySpan<float> norms,
        ReadOnlySpan<int> mask, Span<float> dHidden, int batch, int seq, int width)
    {
        var dx = new double[width];
        for (int b = 0; b < batch; b++)
        {
            double dot = 0, count = 0;
            for (int i = 0; i < width; i++) dot += (double)embedding[b * width + i] * dEmbedding[b * width + i];
            bool clamped = norms[b] <= 1e-12f;
            for (int i = 0; i < width; i++)
                dx[i] = clamped ? dEmbedding[b * width + i] / 1e-12
                                : (dEmbedding[b * width + i] - embedding[b * width + i] * dot) / norms[b];
            for (int t = 0; t < seq; t++) if (mask[b * seq + t] != 0) count++;
            count = Math.Max(count, 1e-9);
            for (int t = 0; t < seq; t++)
                for (int i = 0; i < width; i++)
                    dHidden[(b * seq + t) * width + i] = mask[b * seq + t] != 0 ? (float)(dx[i] / count) : 0f;
        }
    }
}
