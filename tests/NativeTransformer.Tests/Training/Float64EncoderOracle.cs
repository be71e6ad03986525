using NativeTransformer.Training;

namespace NativeTransformer.Tests.Training;

/// <summary>
/// An independent float64 forward of the four trainable families, written from Hugging Face's modeling code with the key
/// names spelled out here (not taken from CheckpointLayout), and the objective's terms in float64: the oracle the
/// finite-difference tests differentiate numerically. Masked keys get probability 0; dropout, when given, multiplies by
/// the same counter-based mask (<see cref="DropoutOptions.Scale"/>) at HF's positions.
/// </summary>
internal sealed class Float64EncoderOracle(string family, string prefix, int layers, int heads, double eps, int padId, int groups = 1)
{
    public sealed record Output(List<double[]> HiddenStates, double[] Logits);

    private bool Distil => family == "distilbert";
    private bool Albert => family == "albert";
    private bool Roberta => family == "roberta";

    private string LayerKey(int i, string part)
    {
        if (Distil) return $"{prefix}transformer.layer.{i}." + part switch
        {
            "q" => "attention.q_lin", "k" => "attention.k_lin", "v" => "attention.v_lin", "o" => "attention.out_lin", "ln1" => "sa_layer_norm",
            "i" => "ffn.lin1", "out" => "ffn.lin2", _ => "output_layer_norm",
        };
        if (Albert) return $"{prefix}encoder.albert_layer_groups.{(int)(i / ((double)layers / groups))}.albert_layers.0." + part switch
        {
            "q" => "attention.query", "k" => "attention.key", "v" => "attention.value", "o" => "attention.dense", "ln1" => "attention.LayerNorm",
            "i" => "ffn", "out" => "ffn_output", _ => "full_layer_layer_norm",
        };
        return $"{prefix}encoder.layer.{i}." + part switch
        {
            "q" => "attention.self.query", "k" => "attention.self.key", "v" => "attention.self.value", "o" => "attention.output.dense",
            "ln1" => "attention.output.LayerNorm", "i" => "intermediate.dense", "out" => "output.dense", _ => "output.LayerNorm",
        };
    }

    public Output Forward(IReadOnlyDictionary<string, double[]> p, TrainingBatch batch, DropoutOptions? dropout = null)
    {
        int b = batch.Batch, s = batch.Seq, t = b * s;
        var word = p[prefix + "embeddings.word_embeddings.weight"];
        int e = p[prefix + "embeddings.LayerNorm.weight"].Length;
        var x = new double[t * e];
        for (int r = 0; r < b; r++)
        {
            int counted = 0;
            for (int j = 0; j < s; j++)
            {
                int tok = r * s + j, id = batch.InputIds[tok];
                int pos = Roberta ? (id == padId ? padId : padId + ++counted) : j;
                for (int c = 0; c < e; c++)
                {
                    double v = word[id * e + c];
                    if (!Distil) v += p[prefix + "embeddings.token_type_embeddings.weight"][batch.TypeIds[tok] * e + c];
                    x[tok * e + c] = v + p[prefix + "embeddings.position_embeddings.weight"][pos * e + c];
                }
            }
        }
        x = LayerNorm(x, p, prefix + "embeddings.LayerNorm", e);
        Drop(x, dropout, DropoutOptions.EmbeddingSite, dropout?.Hidden ?? 0);
        if (Albert) x = Linear(x, p, prefix + "encoder.embedding_hidden_mapping_in", t);
        var states = new List<double[]> { x };
        int h = x.Length / t, d = h / heads;
        for (int l = 0; l < layers; l++)
        {
            var q = Linear(x, p, LayerKey(l, "q"), t); var k = Linear(x, p, LayerKey(l, "k"), t); var v = Linear(x, p, LayerKey(l, "v"), t);
            var ctx = new double[t * h];
            for (int r = 0; r < b; r++) for (int hd = 0; hd < heads; hd++) for (int i = 0; i < s; i++)
            {
                var w = new double[s];
                double max = double.NegativeInfinity, sum = 0;
                for (int j = 0; j < s; j++)
                {
                    if (batch.AttentionMask[r * s + j] == 0) continue;
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += q[(r * s + i) * h + hd * d + c] * k[(r * s + j) * h + hd * d + c];
                    w[j] = dot / Math.Sqrt(d); max = Math.Max(max, w[j]);
                }
                for (int j = 0; j < s; j++) { w[j] = batch.AttentionMask[r * s + j] == 0 ? 0 : Math.Exp(w[j] - max); sum += w[j]; }
                for (int j = 0; j < s; j++)
                {
                    double prob = w[j] / sum;
                    if (dropout is not null) prob *= dropout.Scale(DropoutOptions.AttentionProbsSite(l), (((long)r * heads + hd) * s + i) * s + j, dropout.Attention);
                    for (int c = 0; c < d; c++) ctx[(r * s + i) * h + hd * d + c] += prob * v[(r * s + j) * h + hd * d + c];
                }
            }
            var a = Linear(ctx, p, LayerKey(l, "o"), t);
            if (!Distil) Drop(a, dropout, DropoutOptions.AttentionOutputSite(l), dropout?.Hidden ?? 0);
            for (int i = 0; i < a.Length; i++) a[i] += x[i];
            a = LayerNorm(a, p, LayerKey(l, "ln1"), h);
            var f = Linear(a, p, LayerKey(l, "i"), t);
            for (int i = 0; i < f.Length; i++) f[i] = 0.5 * f[i] * NativeTransformer.Kernels.Activations.Erfc(-f[i] / Math.Sqrt(2));
            var o = Linear(f, p, LayerKey(l, "out"), t);
            Drop(o, dropout, DropoutOptions.FeedForwardSite(l), dropout?.Hidden ?? 0);
            for (int i = 0; i < o.Length; i++) o[i] += a[i];
            x = LayerNorm(o, p, LayerKey(l, "ln2"), h);
            states.Add(x);
        }
        string dense = Distil ? "pre_classifier" : Roberta ? "classifier.dense" : Albert ? prefix + "pooler" : prefix + "pooler.dense";
        string cls = Roberta ? "classifier.out_proj" : "classifier";
        if (!p.ContainsKey(cls + ".weight")) return new Output(states, []);
        var first = new double[b * h];
        for (int r = 0; r < b; r++) Array.Copy(x, r * s * h, first, r * h, h);
        var pooled = Linear(first, p, dense, b);
        for (int i = 0; i < pooled.Length; i++) pooled[i] = Distil ? Math.Max(pooled[i], 0) : Math.Tanh(pooled[i]);
        Drop(pooled, dropout, DropoutOptions.HeadSite(layers), dropout?.Hidden ?? 0);
        return new Output(states, Linear(pooled, p, cls, b));
    }

    private static void Drop(double[] x, DropoutOptions? dropout, int site, double rate)
    {
        if (dropout is null) return;
        for (int i = 0; i < x.Length; i++) x[i] *= dropout.Scale(site, i, rate);
    }

    private static double[] Linear(double[] x, IReadOnlyDictionary<string, double[]> p, string key, int rows)
    {
        var bias = p[key + ".bias"];
        return BackwardKernelFiniteDifferenceTests.LinearOracle(x, p[key + ".weight"], bias, rows, bias.Length, x.Length / rows);
    }

    private double[] LayerNorm(double[] x, IReadOnlyDictionary<string, double[]> p, string key, int width) =>
        BackwardKernelFiniteDifferenceTests.LayerNormOracle(x, p[key + ".weight"], p[key + ".bias"], x.Length / width, width, eps);

    // ---- the objective's terms in float64 ----

    public static double CrossEntropy(double[] z, int[] labels, int classes)
    {
        double loss = 0;
        for (int r = 0; r < labels.Length; r++) loss += LogSumExp(z, r * classes, classes, 1) - z[r * classes + labels[r]];
        return loss / labels.Length;
    }

    public static double Kl(double[] z, float[] teacher, double temp, int rows, int classes)
    {
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            var tz = teacher.Select(v => (double)v).ToArray();
            double ls = LogSumExp(z, r * classes, classes, temp), lt = LogSumExp(tz, r * classes, classes, temp);
            for (int c = 0; c < classes; c++)
            {
                double logPt = tz[r * classes + c] / temp - lt;
                loss += Math.Exp(logPt) * (logPt - (z[r * classes + c] / temp - ls));
            }
        }
        return loss * temp * temp / rows;
    }

    private static double LogSumExp(double[] z, int offset, int n, double temp)
    {
        double max = double.NegativeInfinity, sum = 0;
        for (int c = 0; c < n; c++) max = Math.Max(max, z[offset + c] / temp);
        for (int c = 0; c < n; c++) sum += Math.Exp(z[offset + c] / temp - max);
        return max + Math.Log(sum);
    }

    /// <summary>Masked MSE of (optionally projected) student rows vs teacher rows.</summary>
    public static double HiddenMse(double[] student, float[] teacher, int[] mask, double[]? w, double[]? bias)
    {
        int tokens = mask.Count(m => m != 0), dt = teacher.Length / mask.Length, ds = student.Length / mask.Length;
        double loss = 0;
        for (int t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0) continue;
            for (int c = 0; c < dt; c++)
            {
                double v = student[t * ds + c];
                if (w is not null) { v = bias![c]; for (int i = 0; i < ds; i++) v += w[c * ds + i] * student[t * ds + i]; }
                double diff = v - teacher[t * dt + c];
                loss += diff * diff;
            }
        }
        return loss / ((double)tokens * dt);
    }

    public static double[] Pool(double[] hidden, int[] mask, int batch, int seq) =>
        BackwardKernelFiniteDifferenceTests.PoolOracle(hidden, mask, batch, seq, hidden.Length / (batch * seq));

    public static double Mse(double[] a, double[] b) => a.Zip(b, (x, y) => (x - y) * (x - y)).Sum() / a.Length;

    public static double CosineDistance(double[] a, double[] b, int rows)
    {
        int w = a.Length / rows;
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            double dot = 0, aa = 0, bb = 0;
            for (int i = 0; i < w; i++) { dot += a[r * w + i] * b[r * w + i]; aa += a[r * w + i] * a[r * w + i]; bb += b[r * w + i] * b[r * w + i]; }
            loss += 1 - dot / Math.Sqrt(aa * bb);
        }
        return loss / rows;
    }
}
