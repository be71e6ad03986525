namespace NativeTransformer.Evaluation;

/// <summary>The task metrics, as fractions (0..1, correlations -1..1); <see cref="Percent(double)"/> turns them into reported figures.</summary>
public static class Metrics
{
    /// <summary>A fraction as a percentage rounded to 2 decimals (away from zero at .5), the form every report uses.</summary>
    public static double Percent(double fraction) => Math.Round(100.0 * fraction, 2, MidpointRounding.AwayFromZero);

    /// <summary>correct / n as a percentage with 2 decimals; computed as 100·correct/n so 706/872 gives exactly 80.96.</summary>
    public static double Percent(int correct, int n) => Math.Round(100.0 * correct / n, 2, MidpointRounding.AwayFromZero);

    public static int CountCorrect(IReadOnlyList<int> predicted, IReadOnlyList<int> gold)
    {
        CheckSameLength(predicted.Count, gold.Count);
        int correct = 0;
        for (int i = 0; i < predicted.Count; i++) if (predicted[i] == gold[i]) correct++;
        return correct;
    }

    public static double Accuracy(IReadOnlyList<int> predicted, IReadOnlyList<int> gold)
    {
        if (gold.Count == 0) throw new ArgumentException("accuracy of an empty set is undefined");
        return (double)CountCorrect(predicted, gold) / gold.Count;
    }

    /// <summary>
    /// F1 of the <paramref name="positive"/> class: 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall.
    /// When there is no positive at all (none predicted, none gold) the score is 0, as scikit-learn reports it.
    /// </summary>
    public static double F1(IReadOnlyList<int> predicted, IReadOnlyList<int> gold, int positive = 1)
    {
        CheckSameLength(predicted.Count, gold.Count);
        long tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < predicted.Count; i++)
        {
            bool p = predicted[i] == positive, g = gold[i] == positive;
            if (p && g) tp++;
            else if (p) fp++;
            else if (g) fn++;
        }
        long denominator = 2 * tp + fp + fn;
        return denominator == 0 ? 0 : 2.0 * tp / denominator;
    }

    /// <summary>
    /// Pearson correlation. A constant series has no measurable relation to anything: the result is then 0
    /// (scipy would say NaN, which no JSON report can carry). Needs at least 2 values.
    /// </summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckSameLength(x.Count, y.Count);
        if (x.Count < 2) throw new ArgumentException("a correlation needs at least 2 pairs");
        double mx = 0, my = 0;
        for (int i = 0; i < x.Count; i++) { mx += x[i]; my += y[i]; }
        mx /= x.Count;
        my /= y.Count;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) return 0;
        return Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }

    /// <summary>Spearman rank correlation: Pearson of the ranks, tied values sharing their average rank (as scipy).</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckSameLength(x.Count, y.Count);
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>1-based ranks; a group of equal values gets the mean of the ranks it spans (e.g. 1, 2.5, 2.5, 4).</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        foreach (var v in values)
            if (double.IsNaN(v)) throw new ArgumentException("cannot rank NaN");
        var order = Enumerable.Range(0, values.Count).ToArray();
        Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
        var ranks = new double[values.Count];
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]]) j++;
            double average = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = average;
            i = j + 1;
        }
        return ranks;
    }

    /// <summary>Cosine similarity; 0 when either vector is all zeros.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"vectors of different lengths ({a.Length} and {b.Length})");
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }

    private static void CheckSameLength(int a, int b)
    {
        if (a != b) throw new ArgumentException($"series of different lengths ({a} and {b})");
    }
}
