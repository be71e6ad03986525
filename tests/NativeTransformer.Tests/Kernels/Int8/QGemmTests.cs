using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Int8;
using Xunit.Abstractions;
using Path = NativeTransformer.Kernels.Int8.QGemm.Path;

namespace NativeTransformer.Tests.Kernels.Int8;

/// <summary>Marks a test that needs one QGemm path; skipped, with the reason, on CPUs without it.</summary>
public sealed class QGemmPathFactAttribute : FactAttribute
{
    public QGemmPathFactAttribute(string isa)
    {
        var path = isa switch { "avxvnni" => Path.AvxVnni, "avx512bw" => Path.Avx512BW, "avx2" => Path.Avx2, _ => Path.Scalar };
        if (!QGemm.IsSupported(path)) Skip = $"{isa} is not supported on this CPU: the {isa} int8 path was NOT exercised here";
    }
}

public unsafe class QGemmTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> SupportedPaths() =>
        new[] { Path.Scalar, Path.Avx2, Path.Avx512BW, Path.AvxVnni }.Where(QGemm.IsSupported).Select(p => new object[] { QGemm.Name(p) });

    private static Path ParsePath(string isa) => isa switch
    { "avxvnni" => Path.AvxVnni, "avx512bw" => Path.Avx512BW, "avx2" => Path.Avx2, _ => Path.Scalar };

    private static float[] Gaussian(Random rng, int n, float sigma = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = (float)(sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    }

    /// <summary>Row-major u8 activations [m, k] as the scratch holds them (padding stripped).</summary>
    private static byte[] ScratchXq(QGemmScratch s, int m, int k)
    {
        var xq = new byte[m * k];
        for (int r = 0; r < m; r++) for (int i = 0; i < k; i++) xq[r * k + i] = s.Xq[(long)r * s.MaxK4 + i];
        return xq;
    }

    /// <summary>Writes given u8 activations straight into the scratch (both copies, zero padding), bypassing quantization.</summary>
    private static void FillScratch(QGemmScratch s, byte[] xq, int m, int k)
    {
        int k4 = (k + 3) & ~3;
        for (int r = 0; r < m; r++)
            for (int i = 0; i < k4; i++)
            {
                byte v = i < k ? xq[r * k + i] : (byte)0;
                s.Xq[(long)r * s.MaxK4 + i] = v; s.Xw[(long)r * s.MaxK4 + i] = v;
            }
    }

    private static int[] Accumulate(QuantizedMatrix w, QGemmScratch s, int m, Path path)
    {
        var acc = new int[m * w.N];
        fixed (int* pa = acc) QGemm.Accumulate(w, s, m, pa, path);
        return acc;
    }

    private static float[] Run(float[] x, int m, QuantizedMatrix w, float[]? bias, float[]? residual, Epilogue ep, Path path, WorkerPool? pool = null)
    {
        var y = new float[m * w.N];
        var s = new QGemmScratch(Math.Max(m, 1), w.K);
        fixed (float* px = x, pb = bias, pr = residual, py = y)
            QGemm.Compute(px, m, w, pb, pr, py, ep, s, pool, path);
        return y;
    }

    [QGemmPathFact("scalar")] public void ScalarPathIsExercised() { }
    [QGemmPathFact("avx2")] public void Avx2PathIsExercised() { }
    [QGemmPathFact("avx512bw")] public void Avx512BWPathIsExercised() { }
    [QGemmPathFact("avxvnni")] public void AvxVnniPathIsExercised() { }

    [Fact]
    public void ReportsTheChosenIsa()
    {
        output.WriteLine($"QGemm.Isa = {QGemm.Isa}");
        Assert.Contains(QGemm.Isa, new[] { "avxvnni", "avx512bw", "avx2", "scalar" });
        Assert.True(QGemm.IsSupported(QGemm.Best));
    }

    [Fact]
    public void WeightQuantizationRoundTripsWithinHalfAStep()
    {
        var rng = new Random(7);
        int n = 37, k = 101;
        var w = Gaussian(rng, n * k, 0.05f);
        for (int i = 0; i < k; i++) w[5 * k + i] = 0;          // an all-zero row
        w[3 * k + 4] = 2.5f;                                   // an outlier
        var q = QuantizedMatrix.Quantize(w, n, k);
        Assert.Equal(n, q.N); Assert.Equal(k, q.K);
        Assert.Equal(0f, q.Scales[5]);
        var d = q.Dequantize();
        for (int r = 0; r < n; r++)
        {
            float absMax = 0; for (int i = 0; i < k; i++) absMax = Math.Max(absMax, Math.Abs(w[r * k + i]));
            Assert.Equal(absMax / 127f, q.Scales[r]);
            int sum = 0;
            for (int i = 0; i < k; i++)
            {
                Assert.InRange((int)q.Q[r * k + i], -127, 127);
                Assert.True(Math.Abs(d[r * k + i] - w[r * k + i]) <= q.Scales[r] / 2 * 1.0001f + 1e-12f, $"row {r} col {i}");
                sum += q.Q[r * k + i];
            }
            Assert.Equal(sum, q.ColumnSums[r]);
        }
        Assert.True(q.Bytes >= n * k);
    }

    [Fact]
    public void FromInt8KeepsValuesAndScales()
    {
        var rng = new Random(8);
        int n = 19, k = 45;
        var raw = Enumerable.Range(0, n * k).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray();
        var scales = Enumerable.Range(0, n).Select(i => 0.01f * (i + 1)).ToArray();
        var q = QuantizedMatrix.FromInt8(raw, scales, n, k);
        Assert.Equal(raw, q.Q.ToArray());
        Assert.Equal(scales, q.Scales.ToArray());
        Assert.Throws<ArgumentException>(() => QuantizedMatrix.FromInt8(raw, scales.AsSpan(1), n, k));
    }

    [Fact]
    public void ActivationQuantizationReconstructsWithinHalfAStep()
    {
        var rng = new Random(9);
        int m = 6, k = 77;
        var x = Gaussian(rng, m * k);
        for (int i = 0; i < k; i++) { x[2 * k + i] = Math.Abs(x[2 * k + i]) + 1; x[3 * k + i] = 0; x[4 * k + i] = -Math.Abs(x[4 * k + i]); }
        var s = new QGemmScratch(m, k);
        fixed (float* px = x) QGemm.QuantizeActivations(px, m, k, s);
        var xq = ScratchXq(s, m, k);
        for (int r = 0; r < m; r++)
        {
            float sx = s.Scales(m)[r]; int zp = s.ZeroPoints(m)[r];
            if (r == 3) { Assert.Equal(0f, sx); continue; }
            for (int i = 0; i < k; i++)
                Assert.True(Math.Abs(sx * (xq[r * k + i] - zp) - x[r * k + i]) <= sx * 0.5001f, $"row {r} col {i}");
            Assert.True(s.Xw[(long)r * s.MaxK4] == xq[r * k]);
        }
        Assert.Equal(0, s.ZeroPoints(m)[2]);     // all positive → zero point 0
        Assert.Equal(255, s.ZeroPoints(m)[4]);   // all negative → zero point 255
    }

    /// <summary>The quantizer's scalar definition (file header of QGemm): what every vector width must produce bit for bit.</summary>
    private static (byte[] q, float scale, int zp) QuantizeOracle(ReadOnlySpan<float> x)
    {
        float lo = 0, hi = 0;
        foreach (float v in x) { lo = MathF.Min(lo, v); hi = MathF.Max(hi, v); }
        float scale = (hi - lo) / 255f;
        var q = new byte[x.Length];
        if (!(scale > 0)) return (q, 0, 0);
        float inv = 1f / scale;
        int zp = (int)Math.Clamp(MathF.Round(-lo / scale, MidpointRounding.ToEven), 0f, 255f);
        for (int i = 0; i < x.Length; i++) q[i] = (byte)Math.Clamp((int)MathF.Round(x[i] * inv, MidpointRounding.ToEven) + zp, 0, 255);
        return (q, scale, zp);
    }

    [Fact]
    public void QuantizedRowsEqualTheScalarDefinitionForEveryLength0To256()
    {
        var rng = new Random(4321);
        var s = new QGemmScratch(4, 256);
        for (int k = 0; k <= 256; k++)
        {
            int m = 4, k4 = (k + 3) & ~3;
            var x = Gaussian(rng, m * k, 3f);
            for (int i = 0; i < k; i++)
            {
                x[k + i] = rng.Next(-200, 311) * 0.5f;          // row 1: hi − lo = 255 → scale 1: x·inv lands on exact .5 ties
                x[2 * k + i] = Math.Abs(x[2 * k + i]);          // row 2: one-sided (zero point 0)
            }
            if (k >= 2) { x[k] = -100; x[k + 1] = 155; }
            for (int i = 0; i < k; i++) x[3 * k + i] = 0;      // row 3: all zero (scale 0)
            foreach (bool widened in new[] { true, false })
            {
                new Span<byte>(s.Xq, 4 * s.MaxK4).Fill(0xAB); new Span<short>(s.Xw, 4 * s.MaxK4).Fill(0x5A5A);
                fixed (float* px = x) for (int r = 0; r < m; r++) QGemm.QuantizeRow(px + r * k, k, s, r, widened);
                for (int r = 0; r < m; r++)
                {
                    var (q, scale, zp) = QuantizeOracle(x.AsSpan(r * k, k));
                    Assert.Equal(scale, s.Scales(m)[r]); Assert.Equal(zp, s.ZeroPoints(m)[r]);
                    for (int i = 0; i < k4; i++)
                    {
                        int expected = i < k ? q[i] : 0;
                        Assert.True(s.Xq[(long)r * s.MaxK4 + i] == expected, $"k={k} row {r} col {i}: u8 {s.Xq[(long)r * s.MaxK4 + i]} != {expected}");
                        if (widened) Assert.True(s.Xw[(long)r * s.MaxK4 + i] == expected, $"k={k} row {r} col {i}: s16");
                    }
                }
            }
            // A NaN or infinity anywhere in the row (vector body or tail, first or later vector) must be refused.
            for (int bad = 0; k > 0 && bad < 3; bad++)
            {
                var row = x.AsSpan(0, k).ToArray();
                row[rng.Next(k)] = bad == 0 ? float.NaN : bad == 1 ? float.PositiveInfinity : float.NegativeInfinity;
                Assert.Throws<ArgumentException>(() => { fixed (float* px = row) QGemm.QuantizeRow(px, k, s, 0, false); });
            }
        }
    }

    [Fact]
    public void FoldedPairsEqualTheScalarFoldForEveryTileHeight()
    {
        var rng = new Random(77);
        for (int rows = 0; rows <= 6; rows++)
        {
            var raw = new int[rows * 32];
            for (int i = 0; i < raw.Length; i++) raw[i] = rng.Next(int.MinValue / 2, int.MaxValue / 2);
            var expected = (int[])raw.Clone();
            fixed (int* e = expected) QGemmKernels.FoldPairsScalar(rows, e);
            fixed (int* a = raw) QGemmKernels.FoldPairs(rows, a);
            Assert.Equal(expected.AsSpan(0, rows * 16).ToArray(), raw.AsSpan(0, rows * 16).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void Int32SumsEqualTheOracleForEveryDepth0To256(string isa)
    {
        var path = ParsePath(isa);
        var rng = new Random(1234);
        int[] ms = [1, 3, 4, 5, 9, 2, 7], ns = [1, 16, 6, 13, 17, 33, 40];
        var s = new QGemmScratch(9, 256);
        for (int k = 0; k <= 256; k++)
        {
            int m = ms[k % ms.Length], n = ns[k % ns.Length];
            var x = Gaussian(rng, m * k);
            var w = QuantizedMatrix.Quantize(Gaussian(rng, n * k), n, k);
            fixed (float* px = x) QGemm.QuantizeActivations(px, m, k, s);
            var expected = QGemmReference.Accumulate(ScratchXq(s, m, k), w.Q, m, n, k);
            Assert.Equal(expected, Accumulate(w, s, m, path));
        }
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void SaturationTortureMatchesTheOracle(string isa)
    {
        var path = ParsePath(isa);
        var rng = new Random(99);
        foreach (int k in new[] { 4, 7, 64, 255, 768, 3072 })
        {
            int m = 5, n = 35;
            var patterns = new Func<int, int, sbyte>[]
            {
                (r, i) => 127, (r, i) => -128, (r, i) => (sbyte)(i % 2 == 0 ? 127 : -128),
                (r, i) => (sbyte)(i % 2 == 0 ? -128 : -127), (r, i) => (sbyte)((r + i) % 3 == 0 ? 127 : -128),
                (r, i) => (sbyte)rng.Next(-128, 128),
            };
            foreach (var pattern in patterns)
            {
                var raw = new sbyte[n * k];
                for (int r = 0; r < n; r++) for (int i = 0; i < k; i++) raw[r * k + i] = pattern(r, i);
                var w = QuantizedMatrix.FromInt8(raw, Enumerable.Repeat(1f, n).ToArray(), n, k);
                var xq = new byte[m * k];
                for (int r = 0; r < m; r++)
                    for (int i = 0; i < k; i++) xq[r * k + i] = r switch { 0 => 255, 1 => (byte)(i % 2 == 0 ? 255 : 0), 2 => 0, 3 => 254, _ => (byte)rng.Next(256) };
                var s = new QGemmScratch(m, k);
                FillScratch(s, xq, m, k);
                Assert.Equal(QGemmReference.Accumulate(xq, raw, m, n, k), Accumulate(w, s, m, path));
            }
        }
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void OutputsAreBitwiseIdenticalToTheScalarPath(string isa)
    {
        var path = ParsePath(isa);
        var rng = new Random(5);
        foreach (var (m, n, k) in new[] { (1, 17, 31), (5, 33, 64), (9, 48, 130), (13, 100, 257), (64, 70, 384) })
        {
            var x = Gaussian(rng, m * k); var b = Gaussian(rng, n); var res = Gaussian(rng, m * n);
            var w = QuantizedMatrix.Quantize(Gaussian(rng, n * k, 0.1f), n, k);
            foreach (var ep in new[] { Epilogue.None, Epilogue.Gelu, Epilogue.Relu })
            {
                Assert.Equal(Run(x, m, w, b, res, ep, Path.Scalar), Run(x, m, w, b, res, ep, path));
                Assert.Equal(Run(x, m, w, null, null, ep, Path.Scalar), Run(x, m, w, null, null, ep, path));
            }
        }
    }

    /// <summary>Relative L2 error of got vs exact.</summary>
    private static double RelErr(float[] got, float[] exact)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < got.Length; i++) { err += Math.Pow(got[i] - exact[i], 2); norm += Math.Pow(exact[i], 2); }
        return Math.Sqrt(err / norm);
    }

    /// <summary>
    /// What per-tensor asymmetric u8 activations give with the same per-channel weights: levels = 256 is ONNX Runtime's
    /// DynamicQuantizeLinear, levels = 128 is PyTorch's x86 quantize_dynamic (fbgemm, reduce_range). Computed in double.
    /// </summary>
    private static float[] PerTensorBaseline(float[] x, int m, int k, QuantizedMatrix w, float[] b, int levels)
    {
        float lo = Math.Min(0, x.Min()), hi = Math.Max(0, x.Max());
        double scale = (hi - lo) / (levels - 1.0);
        double zp = Math.Clamp(Math.Round(-lo / scale), 0, levels - 1);
        var xd = x.Select(v => (Math.Clamp(Math.Round(v / scale) + zp, 0, levels - 1) - zp) * scale).ToArray();
        var wd = w.Dequantize();
        int n = w.N;
        var y = new float[m * n];
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                double s = b[c];
                for (int i = 0; i < k; i++) s += xd[r * k + i] * wd[c * k + i];
                y[r * n + c] = (float)s;
            }
        return y;
    }

    [Theory]
    [InlineData(1, 384, 384, false)]
    [InlineData(7, 100, 64, false)]
    [InlineData(32, 768, 768, false)]
    [InlineData(16, 3072, 768, false)]
    [InlineData(8, 768, 3072, false)]
    [InlineData(32, 768, 768, true)]
    [InlineData(8, 768, 3072, true)]
    public void CloseToFp32AndNoWorseThanPerTensorQuantization(int m, int n, int k, bool outliers)
    {
        var rng = new Random(m + n + k);
        var x = Gaussian(rng, m * k); var wf = Gaussian(rng, n * k, 0.05f); var b = Gaussian(rng, n, 0.1f); var res = Gaussian(rng, m * n);
        if (outliers)   // BERT-like outlier features: a few hidden dimensions much larger than the rest, varying by token
            for (int r = 0; r < m; r++) { x[r * k + 3] *= 4 + 2 * r; x[r * k + 77] *= -8; }
        var w = QuantizedMatrix.Quantize(wf, n, k);
        var exact = new float[m * n];
        GemmReference.Compute(x, wf, b, exact, m, n, k);
        var got = Run(x, m, w, b, null, Epilogue.None, QGemm.Best);
        double rel = RelErr(got, exact);
        double ort = RelErr(PerTensorBaseline(x, m, k, w, b, 256), exact);
        double torch = RelErr(PerTensorBaseline(x, m, k, w, b, 128), exact);
        output.WriteLine($"M={m} N={n} K={k} outliers={outliers}: relative L2 error ours {rel:E3}, per-tensor u8 (ORT) {ort:E3}, per-tensor 7-bit (PyTorch x86) {torch:E3}");
        Assert.True(rel < (outliers ? 3e-2 : 1.5e-2), $"relative error {rel}");
        Assert.True(rel <= ort * 1.02, $"ours {rel} vs per-tensor u8 {ort}");
        Assert.True(rel <= torch, $"ours {rel} vs per-tensor 7-bit {torch}");

        // Epilogue: GELU then residual, against fp32 with the same epilogue.
        var withGelu = Run(x, m, w, b, res, Epilogue.Gelu, QGemm.Best);
        for (int r = 0; r < m; r++) Activations.Apply(exact.AsSpan(r * n, n), Epilogue.Gelu);
        for (int i = 0; i < m * n; i++) exact[i] += res[i];
        Assert.True(RelErr(withGelu, exact) < 3e-2, $"gelu+residual relative error {RelErr(withGelu, exact)}");
    }

    [Theory]
    [InlineData(1, 200, 96)]     // split over panels
    [InlineData(5, 300, 128)]    // split over panels, ragged rows
    [InlineData(37, 129, 200)]   // split over row blocks
    [InlineData(70, 48, 64)]
    public void ThreadCountAndBatchCompositionDoNotChangeAnyBit(int m, int n, int k)
    {
        var rng = new Random(m * n + k);
        var x = Gaussian(rng, m * k); var b = Gaussian(rng, n); var res = Gaussian(rng, m * n);
        var w = QuantizedMatrix.Quantize(Gaussian(rng, n * k, 0.1f), n, k);
        using var pool2 = new WorkerPool(2);
        using var pool3 = new WorkerPool(3);
        foreach (var ep in new[] { Epilogue.None, Epilogue.Gelu })
        {
            var one = Run(x, m, w, b, res, ep, QGemm.Best);
            Assert.Equal(one, Run(x, m, w, b, res, ep, QGemm.Best, pool2));
            Assert.Equal(one, Run(x, m, w, b, res, ep, QGemm.Best, pool3));
            // Each row alone, and rows 1.. as their own batch, give the same bits as inside the full batch.
            for (int r = 0; r < m; r += Math.Max(1, m / 4))
            {
                var alone = Run(x.AsSpan(r * k, k).ToArray(), 1, w, b, res.AsSpan(r * n, n).ToArray(), ep, QGemm.Best, pool2);
                Assert.Equal(one.AsSpan(r * n, n).ToArray(), alone);
            }
            if (m > 1)
            {
                var tail = Run(x.AsSpan(k).ToArray(), m - 1, w, b, res.AsSpan(n).ToArray(), ep, QGemm.Best, pool2);
                Assert.Equal(one.AsSpan(n).ToArray(), tail);
            }
        }
    }

    [Fact]
    public void NoAllocationPerCall()
    {
        var rng = new Random(3);
        int k = 256, n = 320;
        var w = QuantizedMatrix.Quantize(Gaussian(rng, n * k, 0.1f), n, k);
        var x = Gaussian(rng, 64 * k); var b = Gaussian(rng, n); var res = new float[64 * n]; var y = new float[64 * n];
        var s = new QGemmScratch(64, k);
        using var pool = new WorkerPool(2);
        fixed (float* px = x, pb = b, pr = res, py = y)
        {
            foreach (int m in new[] { 1, 64 })
                foreach (var p in new WorkerPool?[] { null, pool })
                {
                    QGemm.Compute(px, m, w, pb, pr, py, Epilogue.Gelu, s, p);   // warm-up (thread-static job)
                    var (ax, ab, ar, ay, rows, pool2) = ((nint)px, (nint)pb, (nint)pr, (nint)py, m, p);
                    Assert.Equal(0, Allocations.OnOurThreads(p, () =>
                    {
                        for (int i = 0; i < 10; i++) QGemm.Compute((float*)ax, rows, w, (float*)ab, (float*)ar, (float*)ay, Epilogue.Gelu, s, pool2);
                    }));
                }
        }
    }

    [Fact]
    public void RejectsScratchThatIsTooSmall()
    {
        var w = QuantizedMatrix.Quantize(new float[4 * 8], 4, 8);
        var s = new QGemmScratch(2, 8);
        var x = new float[3 * 8]; var y = new float[3 * 4];
        Assert.Throws<ArgumentException>(() => { fixed (float* px = x, py = y) QGemm.Compute(px, 3, w, null, null, py, Epilogue.None, s, null); });
    }
}
