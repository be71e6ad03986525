namespace NativeTransformer.Training;

/// <summary>A scalar loss and its gradient with respect to the model output it reads.</summary>
public sealed record LossValue(double Loss, float[] Gradient);

/// <summary>
/// The training losses, evaluated in double from float outputs (as PyTorch's definitions, reductions included):
/// cross-entropy (mean over rows), logit distillation KLDivLoss(batchmean)(log_softmax(s/T), softmax(t/T))·T², and the
/// MSE (mean over every element) between two sets of sentence embeddings, the masked hidden-state MSE and the cosine distance.
/// </summary>
public static class Losses
{
    /// <summary>mean_b −log_softmax(z_b)[label_b]; dz = (softmax(z) − onehot) / B.</summary>
    public static LossValue CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int rows, int classes)
    {
        var grad = new float[rows * classes];
        var p = new double[classes];
        double loss = 0;
        for (int b = 0; b < rows; b++)
        {
            if ((uint)labels[b] >= (uint)classes)
                throw new InputException($"label {labels[b]} of item {b} is outside 0..{classes - 1}");
            double lse = LogSoftmax(logits.Slice(b * classes, classes), 1, p);
            loss -= p[labels[b]];
            for (int c = 0; c < classes; c++)
                grad[b * classes + c] = (float)((Math.Exp(p[c]) - (c == labels[b] ? 1 : 0)) / rows);
            _ = lse;
        }
        return new LossValue(loss / rows, grad);
    }

    /// <summary>T²/B·Σ p_t (log p_t − log_softmax(s/T)); ds = T/B·(softmax(s/T) − p_t). Teacher logits are constants.</summary>
    public static LossValue Distillation(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, double temperature, int rows, int classes)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new InputException($"the temperature must be a positive number, got {temperature}");
        var grad = new float[rows * classes];
        var ls = new double[classes]; var lt = new double[classes];
        double loss = 0;
        for (int b = 0; b < rows; b++)
        {
            LogSoftmax(student.Slice(b * classes, classes), temperature, ls);
            LogSoftmax(teacher.Slice(b * classes, classes), temperature, lt);
            for (int c = 0; c < classes; c++)
            {
                double pt = Math.Exp(lt[c]);
                if (pt > 0) loss += pt * (lt[c] - ls[c]); // xlogy: 0·log 0 = 0
                grad[b * classes + c] = (float)(temperature / rows * (Math.Exp(ls[c]) - pt));
            }
        }
        return new LossValue(loss * temperature * temperature / rows, grad);
    }

    /// <summary>mean over all B·D elements of (e_s − e_t)²; de_s = 2(e_s − e_t)/(B·D).</summary>
    public static LossValue MeanSquaredError(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher)
    {
        if (student.Length != teacher.Length) throw new ArgumentException("MSE: the two sides differ in size");
        var grad = new float[student.Length];
        double loss = 0;
        for (int i = 0; i < student.Length; i++)
        {
            double d = (double)student[i] - teacher[i];
            loss += d * d;
            grad[i] = (float)(2 * d / student.Length);
        }
        return new LossValue(student.Length == 0 ? 0 : loss / student.Length, grad);
    }

    /// <summary>
    /// Hidden-state MSE over the real tokens: Σ_{t: mask 1} Σ_d (s − u)² / (tokens·D) with s, u [B·S, D]; padded rows add
    /// nothing and get gradient 0 (their values are whatever the math gives, not data).
    /// </summary>
    public static LossValue MaskedMeanSquaredError(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> mask, int width)
    {
        if (student.Length != teacher.Length || student.Length != mask.Length * width) throw new ArgumentException("hidden MSE: the two sides differ in size");
        int tokens = 0;
        foreach (var m in mask) if (m != 0) tokens++;
        var grad = new float[student.Length];
        if (tokens == 0) return new LossValue(0, grad);
        double n = (double)tokens * width, loss = 0;
        for (int t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0) continue;
            for (int i = t * width; i < (t + 1) * width; i++)
            {
                double d = (double)student[i] - teacher[i];
                loss += d * d;
                grad[i] = (float)(2 * d / n);
            }
        }
        return new LossValue(loss / n, grad);
    }

    /// <summary>mean_b (1 − cos(s_b, u_b)); ds_b = −(u_b/(|s_b||u_b|) − cos·s_b/|s_b|²)/B. A zero vector's cosine is taken as 0
    /// (no gradient), as F.cosine_similarity's eps clamp makes it.</summary>
    public static LossValue CosineDistance(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int width)
    {
        if (student.Length != teacher.Length || student.Length != rows * width) throw new ArgumentException("cosine: the two sides differ in size");
        var grad = new float[student.Length];
        double loss = 0;
        for (int b = 0; b < rows; b++)
        {
            var s = student.Slice(b * width, width); var u = teacher.Slice(b * width, width);
            double dot = 0, ss = 0, uu = 0;
            for (int i = 0; i < width; i++) { dot += (double)s[i] * u[i]; ss += (double)s[i] * s[i]; uu += (double)u[i] * u[i]; }
            double ns = Math.Sqrt(ss), nu = Math.Sqrt(uu);
            if (ns == 0 || nu == 0) { loss += 1; continue; }
            double cos = dot / (ns * nu);
            loss += 1 - cos;
            for (int i = 0; i < width; i++) grad[b * width + i] = (float)(-(u[i] / (ns * nu) - cos * s[i] / ss) / rows);
        }
        return new LossValue(loss / rows, grad);
    }

    /// <summary>log_softmax(z / T) into <paramref name="result"/>; returns the log-sum-exp.</summary>
    private static double LogSoftmax(ReadOnlySpan<float> z, double temperature, double[] result)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < z.Length; c++) max = Math.Max(max, z[c] / temperature);
        double sum = 0;
        for (int c = 0; c < z.Length; c++) sum += Math.Exp(z[c] / temperature - max);
        double lse = max + Math.Log(sum);
        for (int c = 0; c < z.Length; c++) result[c] = z[c] / temperature - lse;
        return lse;
    }
}
