using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>LayerNorm, softmax and activations against their double-precision oracles on every width 1..256.</summary>
public class ElementwiseKernelTests
{
    private static float[] Random(Random rng, int n, double scale = 1) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    [Fact]
    public void LayerNormMatchesReferenceForEveryWidth()
    {
        var rng = new Random(99);
        for (int width = 1; width <= 256; width++)
        {
            int rows = 1 + width % 3;
            var x = Random(rng, rows * width, 4); var res = Random(rng, rows * width); var g = Random(rng, width); var b = Random(rng, width);
            var expected = x.ToArray(); var actual = x.ToArray();
            LayerNormReference.AddResidualAndNormalize(expected, res, g, b, rows, width, 1e-12f);
            LayerNorm.AddResidualAndNormalize(actual, res, g, b, rows, width, 1e-12f);
            for (int i = 0; i < actual.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f, $"width {width} at {i}: {expected[i]} vs {actual[i]}");
        }
    }

    [Fact]
    public void SoftmaxMatchesReferenceAndZeroesMaskedEntries()
    {
        var rng = new Random(5);
        for (int len = 1; len <= 256; len++)
            foreach (int valid in new[] { len, 1 + len * 5 / 7 })   // the whole row live, and a masked tail
            {
                var x = Random(rng, len, 20);
                var expected = x.ToArray(); var actual = x.ToArray();
                SoftmaxReference.MaskedRow(expected, valid);
                Softmax.MaskedRow(actual, valid);
                for (int i = 0; i < len; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-6f, $"len {len} valid {valid} at {i}");
                Assert.All(actual[valid..], v => Assert.Equal(0f, v));
                Assert.InRange(actual.Sum(), 0.9999f, 1.0001f);
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => Softmax.MaskedRow(new float[4], 0));
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.0, 0.15729920705028513)]
    [InlineData(2.0, 0.004677734981047266)]
    [InlineData(3.0, 2.209049699858544e-05)]
    [InlineData(-1.0, 1.8427007929497148)]
    [InlineData(5.0, 1.5374597944280349e-12)]
    public void ErfcHasFloatPrecision(double x, double expected)
    {
        double actual = Activations.Erfc(x);
        Assert.True(Math.Abs(actual - expected) <= 1.3e-7 * expected, $"erfc({x}) = {actual}, expected {expected}");
    }

    [Fact]
    public void GeluMatchesTheDefinition()
    {
        // x·Φ(x) = ½x(1 + erf(x/√2)), erf from a 60-term Taylor series (exact to double precision for |x| ≤ 3).
        for (double x = -3; x <= 3; x += 0.01)
        {
            double z = x / Math.Sqrt(2), erf = 0, term = z;
            for (int n = 0; n < 60; n++) { erf += term / (2 * n + 1); term *= -z * z / (n + 1); }
            double expected = 0.5 * x * (1 + 2 / Math.Sqrt(Math.PI) * erf);
            var v = new[] { (float)x };
            Activations.Gelu(v);
            Assert.True(Math.Abs(v[0] - expected) < 1e-6, $"gelu({x}) = {v[0]}, expected {expected}");
        }
    }

    [Fact]
    public void GeluTanhAndRelu()
    {
        float[] x = [-2f, -0.5f, 0f, 0.5f, 2f];
        var t = x.ToArray(); Activations.GeluTanh(t);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double expected = 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            Assert.True(Math.Abs(t[i] - expected) < 1e-6);
        }
        var r = x.ToArray(); Activations.Relu(r);
        Assert.Equal([0f, 0f, 0f, 0.5f, 2f], r);
    }
}

public class VectorGeluTests
{
    /// <summary>Whole spans (16-lane loop, then 8-lane, then the tail through one padded 8-lane vector) must equal the
    /// same values run in pieces of 1..9, bit for bit: the int8 GEMM applies an activation to whole rows and the fp32 GEMM
    /// to 64-column segments.</summary>
    [Theory]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.GeluTanh)]
    public void GeluBitsDoNotDependOnTheVectorWidthOrTheSplit(Epilogue gelu)
    {
        var rng = new Random(77);
        for (int len = 0; len <= 256; len++)
        {
            var x = Enumerable.Range(0, len).Select(_ => (float)(rng.NextDouble() * 16 - 8)).ToArray();
            if (len > 3) { x[0] = 0; x[1] = -0f; x[2] = -30f; x[3] = 12f; }
            var whole = x.ToArray(); Activations.Apply(whole, gelu);
            int piece = 1 + len % 9;
            var pieces = x.ToArray();
            for (int i = 0; i < len; i += piece) Activations.Apply(pieces.AsSpan(i, Math.Min(piece, len - i)), gelu);
            for (int i = 0; i < len; i++)
                Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(pieces[i]), $"{gelu} len {len} pieces of {piece} at {i}: {whole[i]} vs {pieces[i]}");
        }
    }

    /// <summary>Both GELUs within 1e-6·max(1, |x|) of their double-precision definitions on every length 0..300.</summary>
    [Theory]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.GeluTanh)]
    public void VectorGeluIsWithin1e6OfTheScalarReferenceOnEveryLength(Epilogue gelu)
    {
        Func<float, float> reference = gelu == Epilogue.Gelu ? Activations.GeluScalar : Activations.GeluTanhScalar;
        var rng = new Random(2024);
        for (int len = 0; len <= 300; len++)
        {
            var x = Enumerable.Range(0, len).Select(_ => (float)((rng.NextDouble() * 2 - 1) * 8)).ToArray();
            var v = x.ToArray();
            Activations.Apply(v, gelu);
            for (int i = 0; i < len; i++)
                Assert.True(Math.Abs(v[i] - reference(x[i])) <= 1e-6f * Math.Max(1, Math.Abs(x[i])), $"{gelu} len {len} x={x[i]}: {v[i]} vs {reference(x[i])}");
        }
    }

    [Theory]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.GeluTanh)]
    public void GeluHandlesExtremes(Epilogue gelu)
    {
        Func<float, float> reference = gelu == Epilogue.Gelu ? Activations.GeluScalar : Activations.GeluTanhScalar;
        float[] x = [-100f, -10f, -5f, 0f, -0f, 5f, 10f, 100f, float.MaxValue, -float.MaxValue, 1e30f, -1e30f];
        for (int len = 1; len <= x.Length; len++)   // every element both in a vector and in the tail
        {
            var v = x[..len].ToArray();
            Activations.Apply(v, gelu);
            for (int i = 0; i < len; i++)
            {
                double expected = x[i] > 1e6f ? x[i] : x[i] < -1e6f ? 0 : reference(x[i]);
                Assert.True(Math.Abs(v[i] - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"{gelu}({x[i]}) = {v[i]}, expected {expected}");
            }
        }
        var nan = new[] { float.NaN, 1f };
        Activations.Apply(nan, gelu);
        Assert.True(float.IsNaN(nan[0]));
    }
}

public class ScaledSoftmaxTests
{
    [Fact]
    public void ScaledSoftmaxMatchesReferenceOnEveryLength()
    {
        var rng = new Random(11);
        for (int len = 1; len <= 256; len++)
            foreach (int valid in new[] { len, 1 + len * 5 / 7 })   // the whole row live, and a masked tail
            foreach (double range in new[] { 30.0, 3000.0 })           // the wide range overflows exp unless max is exact
            {
                var x = Enumerable.Range(0, len).Select(_ => (float)((rng.NextDouble() * 2 - 1) * range)).ToArray();
                var expected = x.Select(v => v * 0.125f).ToArray(); var actual = x.ToArray();
                SoftmaxReference.MaskedRow(expected, valid);
                Softmax.ScaledMaskedRow(actual, valid, 0.125f);
                for (int i = 0; i < len; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-6f, $"len {len} valid {valid} range {range} at {i}: {expected[i]} vs {actual[i]}");
                Assert.All(actual[valid..], v => Assert.Equal(0f, v));
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => Softmax.ScaledMaskedRow(new float[4], 0, 1f));
    }

    [Fact]
    public void ANaNScoreMakesTheWholeLiveRowNaN()
    {
        // Wherever it sits (first vector, later vectors, tail), a NaN must not be skipped into a plausible distribution.
        for (int len = 1; len <= 70; len++)
            for (int at = 0; at < len; at++)
            {
                var x = Enumerable.Range(0, len).Select(i => (float)Math.Sin(i)).ToArray();
                x[at] = float.NaN;
                Softmax.ScaledMaskedRow(x, len, 0.5f);
                Assert.All(x, v => Assert.True(float.IsNaN(v), $"len {len}, NaN at {at}: {v}"));
            }
    }
}
