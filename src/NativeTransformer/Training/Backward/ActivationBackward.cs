using NativeTransformer.Kernels;

namespace NativeTransformer.Training;

/// <summary>
/// Element-wise activations for training: forward keeps the pre-activation (the caller's buffer), backward multiplies
/// the incoming gradient by the derivative there. Values and derivatives are evaluated in double.
/// Exact GELU x·Φ(x) uses the same erfc as inference (<see cref="Activations.Erfc"/>, fractional error &lt; 1.2e-7), and its
/// derivative Φ(x) + x·φ(x); tanh GELU ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³).
/// </summary>
public static class ActivationBackward
{
    private const double InvSqrt2 = 0.70710678118654752440, InvSqrt2Pi = 0.39894228040143267794, SqrtTwoOverPi = 0.79788456080286535588;

    public static void Forward(Epilogue kind, ReadOnlySpan<float> pre, Span<float> y)
    {
        for (int i = 0; i < pre.Length; i++) y[i] = (float)Value(kind, pre[i]);
    }

    /// <summary>dX = dY · f'(pre) (dX may alias dY).</summary>
    public static void Backward(Epilogue kind, ReadOnlySpan<float> pre, ReadOnlySpan<float> dY, Span<float> dX)
    {
        for (int i = 0; i < pre.Length; i++) dX[i] = (float)(dY[i] * Derivative(kind, pre[i]));
    }

    public static double Value(Epilogue kind, double x) => kind switch
    {
        Epilogue.Gelu => 0.5 * x * Activations.Erfc(-x * InvSqrt2),
        Epilogue.GeluTanh => 0.5 * x * (1 + Math.Tanh(SqrtTwoOverPi * (x + 0.044715 * x * x * x))),
        Epilogue.Relu => Math.Max(x, 0),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static double Derivative(Epilogue kind, double x)
    {
        switch (kind)
        {
            case Epilogue.Gelu:
                return 0.5 * Activations.Erfc(-x * InvSqrt2) + x * InvSqrt2Pi * Math.Exp(-0.5 * x * x);
            case Epilogue.GeluTanh:
                double t = Math.Tanh(SqrtTwoOverPi * (x + 0.044715 * x * x * x));
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SqrtTwoOverPi * (1 + 3 * 0.044715 * x * x);
            case Epilogue.Relu:
                return x > 0 ? 1 : 0;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>tanh forward in place on a copy: y = tanh(x).</summary>
    public static void TanhForward(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = MathF.Tanh(x[i]);
    }

    /// <summary>dX = dY·(1 − y²) from the tanh output y.</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dY, Span<float> dX)
    {
        for (int i = 0; i < y.Length; i++) dX[i] = dY[i] * (1f - y[i] * y[i]);
    }
}
