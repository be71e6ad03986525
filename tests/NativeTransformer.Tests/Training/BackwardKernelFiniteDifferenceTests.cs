using NativeTransformer.Kernels;
using NativeTransformer.Training;

namespace NativeTransformer.Tests.Training;

/// <summary>
/// Every backward kernel against central finite differences (h = 1e-6) of a float64 scalar oracle of its forward, on tiny
/// shapes with fixed seeds. The scalar loss is L = Σ r·y with fixed random weights r, so dY = r; the float32 analytic gradient
/// must agree with the float64 numeric one to 1e-4 relative (max|diff| / max|numeric|), every input checked.
/// </summary>
public sealed class BackwardKernelFiniteDifferenceTests
{
    private const double H = 1e-6, Tolerance = 1e-4;

    private static double[] Random(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (rng.NextDouble() * 2 - 1) * scale;
        return v;
    }

    private static float[] F(double[] v) => v.Select(x => (float)x).ToArray();
    private static double[] D(float[] v) => v.Select(x => (double)x).ToArray();

    /// <summary>d(Σ r·f(x))/dx numerically, for every entry of <paramref name="x"/> (x is restored).</summary>
    private static double[] Numeric(double[] x, Func<double[]> loss)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + H; double up = loss()[0];
            x[i] = keep - H; double down = loss()[0];
            x[i] = keep;
            g[i] = (up - down) / (2 * H);
        }
        return g;
    }

    private static double Dot(double[] r, double[] y) { double s = 0; for (int i = 0; i < y.Length; i++) s += r[i] * y[i]; return s; }

    private static void AssertClose(double[] numeric, ReadOnlySpan<float> analytic, string what)
    {
        Assert.Equal(numeric.Length, analytic.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < numeric.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(numeric[i] - analytic[i]));
            maxRef = Math.Max(maxRef, Math.Abs(numeric[i]));
        }
        Assert.True(maxRef > 1e-3, $"{what}: the check is degenerate (max gradient {maxRef})");
        Assert.True(maxDiff <= Tolerance * maxRef, $"{what}: max|diff| {maxDiff} vs max|grad| {maxRef}");
    }

    // ---- float64 oracles of the forwards ----

    internal static double[] LinearOracle(double[] x, double[] w, double[] b, int m, int n, int k)
    {
        var y = new double[m * n];
        for (int r = 0; r < m; r++) for (int c = 0; c < n; c++)
        {
            double s = b[c];
            for (int i = 0; i < k; i++) s += x[r * k + i] * w[c * k + i];
            y[r * n + c] = s;
        }
        return y;
    }

    internal static double[] LayerNormOracle(double[] x, double[] g, double[] b, int rows, int width, double eps)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0; for (int i = 0; i < width; i++) mean += x[r * width + i]; mean /= width;
            double v = 0; for (int i = 0; i < width; i++) v += (x[r * width + i] - mean) * (x[r * width + i] - mean); v /= width;
            for (int i = 0; i < width; i++) y[r * width + i] = (x[r * width + i] - mean) / Math.Sqrt(v + eps) * g[i] + b[i];
        }
        return y;
    }

    private static double[] AttentionOracle(double[] q, double[] k, double[] v, int[] mask, int batch, int seq, int heads, int d)
    {
        int width = heads * d;
        var ctx = new double[batch * seq * width];
        for (int b = 0; b < batch; b++) for (int h = 0; h < heads; h++) for (int i = 0; i < seq; i++)
        {
            var s = new double[seq];
            double max = double.NegativeInfinity;
            for (int j = 0; j < seq; j++)
            {
                if (mask[b * seq + j] == 0) continue;
                double dot = 0;
                for (int c = 0; c < d; c++) dot += q[(b * seq + i) * width + h * d + c] * k[(b * seq + j) * width + h * d + c];
                s[j] = dot / Math.Sqrt(d); max = Math.Max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < seq; j++) { s[j] = mask[b * seq + j] == 0 ? 0 : Math.Exp(s[j] - max); sum += s[j]; }
            for (int j = 0; j < seq; j++)
                for (int c = 0; c < d; c++) ctx[(b * seq + i) * width + h * d + c] += s[j] / sum * v[(b * seq + j) * width + h * d + c];
        }
        return ctx;
    }

    internal static double[] PoolOracle(double[] hidden, int[] mask, int batch, int seq, int width)
    {
        var e = new double[batch * width];
        for (int b = 0; b < batch; b++)
        {
            double count = 0;
            for (int t = 0; t < seq; t++) if (mask[b * seq + t] != 0) { count++; for (int i = 0; i < width; i++) e[b * width + i] += hidden[(b * seq + t) * width + i]; }
            double sq = 0;
            for (int i = 0; i < width; i++) { e[b * width + i] /= Math.Max(count, 1e-9); sq += e[b * width + i] * e[b * width + i]; }
            double norm = Math.Max(Math.Sqrt(sq), 1e-12);
            for (int i = 0; i < width; i++) e[b * width + i] /= norm;
        }
        return e;
    }

    // ---- the checks ----

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 3, 7)]
    [InlineData(9, 17, 12)]
    public void Linear(int m, int n, int k)
    {
        double[] x = Random(m * k, 1), w = Random(n * k, 2), b = Random(n, 3), r = Random(m * n, 4);
        var dX = new float[m * k]; var dW = new float[n * k]; var dB = new float[n];
        LinearBackward.InputGradient(F(r), F(w), dX, m, n, k, threads: 2);
        LinearBackward.WeightGradient(F(r), F(x), dW, dB, m, n, k, threads: 2);
        double[] L() => [Dot(r, LinearOracle(x, w, b, m, n, k))];
        AssertClose(Numeric(x, L), dX, "dX");
        AssertClose(Numeric(w, L), dW, "dW");
        AssertClose(Numeric(b, L), dB, "dB");
        // The forward is the inference Gemm: same values as the oracle.
        var y = new float[m * n];
        LinearBackward.Forward(F(x), F(w), F(b), y, m, n, k, threads: 1);
        var yo = LinearOracle(D(F(x)), D(F(w)), D(F(b)), m, n, k);
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - yo[i]) <= 1e-5, "forward");
    }

    [Theory]
    [InlineData(1, 3)] // width 2 is degenerate: x̂ = ±1 whatever x, so dX = 0
    [InlineData(3, 8)]
    [InlineData(4, 33)]
    public void LayerNorm(int rows, int width)
    {
        double[] x = Random(rows * width, 5, 3), g = Random(width, 6), b = Random(width, 7), r = Random(rows * width, 8);
        const float eps = 1e-5f;
        var y = new float[x.Length]; var xHat = new float[x.Length]; var inv = new float[rows];
        LayerNormBackward.Forward(F(x), F(g), F(b), y, xHat, inv, rows, width, eps);
        var dX = new float[x.Length]; var dG = new float[width]; var dB = new float[width];
        LayerNormBackward.Backward(F(r), xHat, inv, F(g), dX, dG, dB, rows, width);
        double[] L() => [Dot(r, LayerNormOracle(x, g, b, rows, width, eps))];
        AssertClose(Numeric(x, L), dX, "dX");
        AssertClose(Numeric(g, L), dG, "dGamma");
        AssertClose(Numeric(b, L), dB, "dBeta");
        var yo = LayerNormOracle(D(F(x)), D(F(g)), D(F(b)), rows, width, eps);
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - yo[i]) <= 1e-5, "forward");
    }

    [Theory]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.GeluTanh)]
    public void Gelu(Epilogue kind)
    {
        double[] x = Random(64, 9, 5), r = Random(64, 10);
        var dX = new float[64];
        ActivationBackward.Backward(kind, F(x), F(r), dX);
        // The oracles: exact GELU through the inference kernels' scalar reference (erf) or the tanh formula.
        Func<double, double> f = kind == Epilogue.Gelu
            ? v => 0.5 * v * Activations.Erfc(-v / Math.Sqrt(2))
            : v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        double[] L() => [Dot(r, x.Select(f).ToArray())];
        AssertClose(Numeric(x, L), dX, kind.ToString());
        var y = new float[64];
        ActivationBackward.Forward(kind, F(x), y);
        var inference = F(x);
        Activations.Apply(inference, kind);
        for (int i = 0; i < 64; i++) Assert.True(Math.Abs(y[i] - inference[i]) <= 1e-6, "forward matches the inference activation");
    }

    [Fact]
    public void Tanh()
    {
        double[] x = Random(40, 11, 3), r = Random(40, 12);
        var y = new float[40];
        ActivationBackward.TanhForward(F(x), y);
        var dX = new float[40];
        ActivationBackward.TanhBackward(y, F(r), dX);
        double[] L() => [Dot(r, x.Select(Math.Tanh).ToArray())];
        AssertClose(Numeric(x, L), dX, "tanh");
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 5, 2, 3)]
    [InlineData(3, 9, 3, 4)]
    public void MaskedAttention(int batch, int seq, int heads, int d)
    {
        int n = batch * seq * heads * d;
        double[] q = Random(n, 13), k = Random(n, 14), v = Random(n, 15), r = Random(n, 16);
        var mask = new int[batch * seq];
        for (int b = 0; b < batch; b++) for (int t = 0; t < seq; t++) mask[b * seq + t] = t < seq - b ? 1 : 0; // row b has b pads
        var ctx = new float[n]; var probs = new float[batch * heads * seq * seq];
        AttentionBackward.Forward(F(q), F(k), F(v), mask, ctx, probs, batch, seq, heads, d, threads: 2);
        var co = AttentionOracle(D(F(q)), D(F(k)), D(F(v)), mask, batch, seq, heads, d);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(ctx[i] - co[i]) <= 1e-5, "forward");
        var dQ = new float[n]; var dK = new float[n]; var dV = new float[n];
        AttentionBackward.Backward(F(q), F(k), F(v), probs, F(r), dQ, dK, dV, batch, seq, heads, d, threads: 2);
        double[] L() => [Dot(r, AttentionOracle(q, k, v, mask, batch, seq, heads, d))];
        AssertClose(Numeric(v, L), dV, "dV");
        if (seq > 1) // one key: softmax is constant, dQ = dK = 0
        {
            AssertClose(Numeric(q, L), dQ, "dQ");
            AssertClose(Numeric(k, L), dK, "dK");
        }
        // Padded keys get no gradient.
        for (int b = 0; b < batch; b++) for (int t = 0; t < seq; t++)
            if (mask[b * seq + t] == 0)
                for (int c = 0; c < heads * d; c++) { Assert.Equal(0f, dK[(b * seq + t) * heads * d + c]); Assert.Equal(0f, dV[(b * seq + t) * heads * d + c]); }
    }

    [Fact]
    public void Embeddings()
    {
        const int vocab = 6, width = 3;
        int[] ids = [1, 0, 4, 1, 5, 0];
        double[] table = Random(vocab * width, 17), r = Random(ids.Length * width, 18);
        var dT = new float[table.Length];
        EmbeddingBackward.Backward(F(r), ids, dT, width, paddingIndex: 0);
        double[] L()
        {
            double s = 0;
            for (int t = 0; t < ids.Length; t++) for (int i = 0; i < width; i++) s += r[t * width + i] * table[ids[t] * width + i];
            return [s];
        }
        var numeric = Numeric(table, L);
        for (int i = 0; i < width; i++) numeric[i] = 0; // padding_idx: nn.Embedding gives its row no gradient
        AssertClose(numeric, dT, "dTable");
    }

    [Fact]
    public void MeanPoolingAndL2Normalization()
    {
        const int batch = 3, seq = 4, width = 5;
        double[] h = Random(batch * seq * width, 19), r = Random(batch * width, 20);
        int[] mask = [1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0];
        var e = new float[batch * width]; var norms = new float[batch];
        PoolingBackward.MeanNormalizeForward(F(h), mask, e, norms, batch, seq, width);
        var eo = PoolOracle(D(F(h)), mask, batch, seq, width);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - eo[i]) <= 1e-6, "forward");
        var dH = new float[h.Length];
        PoolingBackward.MeanNormalizeBackward(F(r), e, norms, mask, dH, batch, seq, width);
        double[] L() => [Dot(r, PoolOracle(h, mask, batch, seq, width))];
        AssertClose(Numeric(h, L), dH, "dHidden");
    }

    [Fact]
    public void Losses_()
    {
        const int rows = 3, classes = 4;
        double[] s = Random(rows * classes, 21, 3), t = Random(rows * classes, 22, 3);
        int[] labels = [2, 0, 3];
        const double T = 2;
        double Lse(double[] z, int b, double temp)
        {
            double m = double.NegativeInfinity; for (int c = 0; c < classes; c++) m = Math.Max(m, z[b * classes + c] / temp);
            double sum = 0; for (int c = 0; c < classes; c++) sum += Math.Exp(z[b * classes + c] / temp - m);
            return m + Math.Log(sum);
        }
        double[] Ce() { double l = 0; for (int b = 0; b < rows; b++) l += Lse(s, b, 1) - s[b * classes + labels[b]]; return [l / rows]; }
        double[] Kd()
        {
            double l = 0;
            for (int b = 0; b < rows; b++) for (int c = 0; c < classes; c++)
            {
                double lt = t[b * classes + c] / T - Lse(t, b, T), ls = s[b * classes + c] / T - Lse(s, b, T);
                l += Math.Exp(lt) * (lt - ls);
            }
            return [l * T * T / rows];
        }
        double[] Mse() { double l = 0; for (int i = 0; i < s.Length; i++) l += (s[i] - t[i]) * (s[i] - t[i]); return [l / s.Length]; }

        var ce = Losses.CrossEntropy(F(s), labels, rows, classes);
        Assert.True(Math.Abs(ce.Loss - Ce()[0]) <= 1e-6);
        AssertClose(Numeric(s, Ce), ce.Gradient, "cross-entropy");
        var kd = Losses.Distillation(F(s), F(t), T, rows, classes);
        Assert.True(Math.Abs(kd.Loss - Kd()[0]) <= 1e-6);
        AssertClose(Numeric(s, Kd), kd.Gradient, "distillation");
        var mse = Losses.MeanSquaredError(F(s), F(t));
        Assert.True(Math.Abs(mse.Loss - Mse()[0]) <= 1e-5);
        AssertClose(Numeric(s, Mse), mse.Gradient, "mse");
    }
}
