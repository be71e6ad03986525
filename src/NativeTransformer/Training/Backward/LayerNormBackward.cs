namespace NativeTransformer.Training;

/// <summary>
/// LayerNorm over rows of width W (biased variance, as torch.nn.LayerNorm), keeping what the backward pass needs:
/// x̂ (the normalised rows) and 1/σ per row. Statistics in double, so the training forward is at least as accurate as PyTorch's.
/// Backward: dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ; dγ += Σ dy·x̂, dβ += Σ dy (summed in row order).
/// </summary>
public static class LayerNormBackward
{
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> xHat, Span<float> invStd, int rows, int width, float eps)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * width, width);
            double mean = 0;
            for (int i = 0; i < width; i++) mean += row[i];
            mean /= width;
            double v = 0;
            for (int i = 0; i < width; i++) { double d = row[i] - mean; v += d * d; }
            v /= width;
            double inv = 1.0 / Math.Sqrt(v + eps);
            invStd[r] = (float)inv;
            for (int i = 0; i < width; i++)
            {
                float h = (float)((row[i] - mean) * inv);
                xHat[r * width + i] = h;
                y[r * width + i] = h * gamma[i] + beta[i];
            }
        }
    }

    /// <summary>dX (overwritten) from dY; accumulates into dGamma and dBeta.</summary>
    public static void Backward(ReadOnlySpan<float> dY, ReadOnlySpan<float> xHat, ReadOnlySpan<float> invStd, ReadOnlySpan<float> gamma,
        Span<float> dX, Span<float> dGamma, Span<float> dBeta, int rows, int width)
    {
        var sumGamma = new double[width];
        var sumBeta = new double[width];
        for (int r = 0; r < rows; r++)
        {
            int o = r * width;
            double a = 0, b = 0;
            for (int i = 0; i < width; i++)
            {
                double g = (double)dY[o + i] * gamma[i];
                a += g;
                b += g * xHat[o + i];
                sumGamma[i] += (double)dY[o + i] * xHat[o + i];
                sumBeta[i] += dY[o + i];
            }
            a /= width; b /= width;
            double inv = invStd[r];
            for (int i = 0; i < width; i++)
                dX[o + i] = (float)(inv * ((double)dY[o + i] * gamma[i] - a - xHat[o + i] * b));
        }
        for (int i = 0; i < width; i++) { dGamma[i] += (float)sumGamma[i]; dBeta[i] += (float)sumBeta[i]; }
    }
}
