namespace NativeTransformer.Training;

/// <summary>A scalar loss and its gradient with respect to the model output it reads.</summary>
public sealed record LossValue(double Loss, float[] Gradient);

/// <summary>
/// The training losses, evaluated in double from float outputs (as PyTorch's definitions, reductions included):
/// cross-entropy (mean over rows), logit distillation KLDivLoss(batchmean)(log_softmax(s/T), softmax(t/T))·T², and the
/// MSE (mean over every element) between two sets of sentence embeddings.
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
