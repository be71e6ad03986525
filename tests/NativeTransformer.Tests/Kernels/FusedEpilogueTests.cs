using System.Numerics.Tensors;
using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>The GEMM epilogue fused into one register pass (<see cref="Activations.FinishSegment"/>) against the three
/// separate steps it replaces, and the 16-lane GELU against the 8-lane one: bitwise, so the fusion changes no output.</summary>
public unsafe class FusedEpilogueTests
{
    private static float[] Random(Random rng, int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    [Theory]
    [InlineData(Epilogue.None)]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.Relu)]
    [InlineData(Epilogue.GeluTanh)]
    public void FusedSegmentIsBitwiseAddActivateAdd(Epilogue epilogue)
    {
        var rng = new Random(1313);
        for (int len = 0; len <= 256; len++)
            foreach (var (withBias, withResidual) in new[] { (true, true), (true, false), (false, true), (false, false) })
            {
                var y = Random(rng, len, 6); var bias = Random(rng, len, 2); var residual = Random(rng, len, 3);
                var expected = y.ToArray();
                if (withBias) TensorPrimitives.Add(expected, bias, expected);
                Activations.Apply(expected, epilogue);
                if (withResidual) TensorPrimitives.Add(expected, residual, expected);
                var actual = y.ToArray();
                fixed (float* py = actual, pb = bias, pr = residual)
                    Activations.FinishSegment(py, withBias ? pb : null, withResidual ? pr : null, len, epilogue);
                for (int i = 0; i < len; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                        $"{epilogue} len {len} bias {withBias} residual {withResidual} [{i}]: {actual[i]} vs {expected[i]}");
            }
    }

    [Fact]
    public void GeluGivesEachValueTheSameBitsOnEveryLaneWidth()
    {
        // A long span runs 16-lane vectors; 8-element spans run the 8-lane form: the values must not differ.
        var rng = new Random(77);
        var x = Random(rng, 256, 10);
        var wide = x.ToArray();
        Activations.Gelu(wide);
        for (int i = 0; i < 256; i += 8)
        {
            var narrow = x.AsSpan(i, 8).ToArray();
            Activations.Gelu(narrow);
            for (int j = 0; j < 8; j++)
                Assert.True(BitConverter.SingleToInt32Bits(wide[i + j]) == BitConverter.SingleToInt32Bits(narrow[j]), $"x={x[i + j]}: {wide[i + j]} vs {narrow[j]}");
        }
    }
}
