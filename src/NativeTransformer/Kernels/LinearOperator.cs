using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeTransformer.Kernels.Int8;
using NativeTransformer.Kernels.Packed;

namespace NativeTransformer.Kernels;

/// <summary>Per-forward-pass kernel state: the worker pool and the int8 activation scratch (sized once).</summary>
public sealed class KernelContext(WorkerPool? pool, QGemmScratch? int8Scratch)
{
    public WorkerPool? Pool { get; } = pool;
    public QGemmScratch? Int8Scratch { get; } = int8Scratch;
}

/// <summary>
/// A prepared Linear layer: y[rows, Out] = act(x[rows, In] · Wᵀ + bias) + residual. Built once at load
/// from a [Out, In] weight (packed fp32 or quantized int8); the model calls only this, never a kernel directly.
/// </summary>
public abstract unsafe class LinearOperator
{
    public int In { get; }
    public int Out { get; }
    /// <summary>"fp32-packed", "fp32-sparse" or "int8".</summary>
    public abstract string Kind { get; }
    /// <summary>The SIMD path its kernel takes on this machine, e.g. "avx512" or "avx512bw".</summary>
    public abstract string Isa { get; }
    /// <summary>Bytes of weights this operator owns (its packed or quantized copy).</summary>
    public abstract long OwnedBytes { get; }

    private readonly float[] _bias; // pinned: its address is fixed for the operator's lifetime

    /// <summary>The bias [Out] for the kernels, or null when the layer has none.</summary>
    protected float* Bias { get; }
    protected long BiasBytes => _bias.LongLength * sizeof(float);

    /// <summary>The bias values (empty when the layer has none), e.g. to store the operator in a cache.</summary>
    public ReadOnlySpan<float> BiasValues => _bias;

    protected LinearOperator(int inFeatures, int outFeatures, ReadOnlySpan<float> bias)
    {
        In = inFeatures; Out = outFeatures;
        _bias = Pinned.Copy(bias);
        Bias = _bias.Length == 0 ? null : (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bias));
    }

    /// <summary>Computes the layer. <paramref name="residual"/> may be null. Allocation-free.</summary>
    public abstract void Forward(float* x, int rows, float* y, Epilogue epilogue, float* residual, KernelContext context);
}

/// <summary>fp32 over weights repacked into the micro-kernel's panels (<see cref="PackedGemm"/>).</summary>
public sealed unsafe class PackedLinear : LinearOperator
{
    private readonly PackedMatrix _w;

    public PackedLinear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures)
        : this(PackedMatrix.Pack(weight, outFeatures, inFeatures), bias) { }

    /// <summary>Over an already packed weight (e.g. one mapped from the packed-weights cache).</summary>
    public PackedLinear(PackedMatrix weights, ReadOnlySpan<float> bias) : base(weights.K, weights.N, bias) => _w = weights;

    /// <summary>The packed weight.</summary>
    public PackedMatrix Weights => _w;

    public override string Kind => "fp32-packed";
    public override string Isa => PackedGemm.Isa;
    public override long OwnedBytes => _w.Bytes + BiasBytes;

    public override void Forward(float* x, int rows, float* y, Epilogue epilogue, float* residual, KernelContext context) =>
        PackedGemm.Compute(x, rows, _w, Bias, residual, y, epilogue, context.Pool);
}

/// <summary>Dynamic int8: per-channel int8 weights quantized at load, activations per row at run time (<see cref="QGemm"/>).</summary>
public sealed unsafe class QuantizedLinear : LinearOperator
{
    public QuantizedMatrix Weights { get; }

    public QuantizedLinear(QuantizedMatrix weights, ReadOnlySpan<float> bias) : base(weights.K, weights.N, bias) => Weights = weights;

    public QuantizedLinear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures)
        : this(QuantizedMatrix.Quantize(weight, outFeatures, inFeatures), bias) { }

    public override string Kind => "int8";
    public override string Isa => QGemm.Isa;
    public override long OwnedBytes => Weights.Bytes + BiasBytes;

    public override void Forward(float* x, int rows, float* y, Epilogue epilogue, float* residual, KernelContext context)
    {
        var scratch = context.Int8Scratch ?? throw new InvalidOperationException("int8 layer run without an int8 scratch");
        QGemm.Compute(x, rows, Weights, Bias, residual, y, epilogue, scratch, context.Pool);
    }
}

/// <summary>Pinned (never moved by the GC) float arrays, so kernels can hold raw pointers across threads.</summary>
public static class Pinned
{
    public static float[] Allocate(int length) => length == 0 ? [] : GC.AllocateArray<float>(length, pinned: true);

    public static float[] Copy(ReadOnlySpan<float> values)
    {
        var a = Allocate(values.Length);
        values.CopyTo(a);
        return a;
    }
}
