namespace NativeTransformer.Kernels;

/// <summary>
/// What a GEMM does to each finished output element, fused while the tile is in registers/cache:
/// y = act(x·Wᵀ + bias) (+ residual when one is given). The model layer uses GELU for the
/// intermediate dense and a residual for the attention and FFN outputs.
/// </summary>
public enum Epilogue { None, Gelu, GeluTanh, Relu }
