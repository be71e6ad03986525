using System.Numerics.Tensors;

namespace NativeTransformer.Kernels;

/// <summary>
/// Element-wise activations, in place.
/// Exact GELU is x·Φ(x) = ½·x·erfc(−x/√2). .NET has no erf, so erfc comes from the Chebyshev-fitted
/// form erfc(z) ≈ t·exp(−z² − 1.26551223 + t·P(t)), t = 1/(1 + z/2), whose fractional error is below
/// 1.2·10⁻⁷ for all z ≥ 0 (Press et al., Numerical Recipes §6.2) — at float precision for GELU.
/// </summary>
public static class Activations
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;

    /// <summary>Exact (erf) GELU, as torch.nn.functional.gelu and Hugging Face's "gelu".</summary>
    public static void Gelu(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = GeluScalar(x[i]);
    }

    /// <summary>One exact-GELU value, in double internally.</summary>
    public static float GeluScalar(float v) => (float)(0.5 * v * Erfc(-v * (double)InvSqrt2));

    /// <summary>tanh-approximated GELU ("gelu_new", "gelu_pytorch_tanh"): ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    public static void GeluTanh(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = 0.5f * v * (1f + MathF.Tanh(SqrtTwoOverPi * (v + 0.044715f * v * v * v)));
        }
    }

    public static void Relu(Span<float> x) => TensorPrimitives.Max(x, 0f, x);

    public static void Tanh(Span<float> x) => TensorPrimitives.Tanh(x, x);

    /// <summary>Complementary error function; fractional error &lt; 1.2e-7 everywhere.</summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
                   t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double r = t * Math.Exp(-z * z + p);
        return x >= 0 ? r : 2.0 - r;
    }
}
