using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeTransformer.Kernels.Int8;

/// <summary>
/// The integer micro-kernels. Each computes, for up to <see cref="QGemm.TileRows"/> activation rows and one 16-column weight panel, the exact int32 sums
/// acc[r, j] = Σ_k xq[r, k] · q[16p + j, k]   (xq u8 in [0, 255], q s8 in [−128, 127])
/// into <c>acc</c> [rows, 16]. Every path computes this same integer (no saturation anywhere, see <see cref="QGemm"/>), so the
/// paths are interchangeable bit for bit. Panel layout: per k-group g of 4, 64 bytes = 16 columns × 4 consecutive k.
/// </summary>
internal static unsafe class QGemmKernels
{
    // ---------------------------------------------------------------- scalar (reads the packed panel; the fallback path)

    public static void Scalar(int rows, byte* xq, int ldx, sbyte* panel, int groups, int* acc)
    {
        for (int r = 0; r < rows; r++)
        {
            byte* xr = xq + (long)r * ldx;
            for (int j = 0; j < 16; j++)
            {
                int s = 0;
                sbyte* wj = panel + j * 4;
                for (int g = 0; g < groups; g++)
                {
                    byte* xg = xr + g * 4; sbyte* wg = wj + g * 64;
                    s += xg[0] * wg[0] + xg[1] * wg[1] + xg[2] * wg[2] + xg[3] * wg[3];
                }
                acc[r * 16 + j] = s;
            }
        }
    }

    // ---------------------------------------------------------------- AVX-512BW: sign-extend s8→s16 (vpmovsxbw), vpmaddwd
    // A 32-byte half of a k-group (8 columns × 4 k) widens to 32 × s16; int32 lane i of vpmaddwd then holds column i/2 and
    // k-pair i%2. The activation operand is the group's 4 u8 values as 4 × s16 (8 bytes) broadcast with vpbroadcastq, so even
    // lanes multiply (x0,x1) and odd lanes (x2,x3). The widened kernels store these 32 raw lanes per row ("pair layout":
    // column c = raw[2c] + raw[2c+1]); <see cref="FoldPairs"/> adds them once per tile, outside the k-loop.

    /// <summary>acc[r, c] = raw[r, 2c] + raw[r, 2c+1] for the widened kernels' pair layout (in place: raw [rows, 32] → acc [rows, 16]).</summary>
    public static void FoldPairs(int rows, int* raw)
    {
        // Per row, vphaddd of two 8-lane vectors gives columns (c0 c1 c4 c5 | c2 c3 c6 c7) (it adds within 128-bit lanes) and
        // vpermq 0xD8 puts them in order. Row r reads raw[32r, 32r+32) into registers before writing acc[16r, 16r+16), which
        // lies below every later row's input, so in place is safe. The scalar loop cost ~5 % of the int8 forward (MiniLM,
        // batch 1, AVX2).
        if (Avx2.IsSupported)
        {
            for (int r = 0; r < rows; r++)
            {
                int* src = raw + r * 32;
                var lo = Avx2.HorizontalAdd(Vector256.Load(src), Vector256.Load(src + 8));
                var hi = Avx2.HorizontalAdd(Vector256.Load(src + 16), Vector256.Load(src + 24));
                Avx2.Permute4x64(lo.AsInt64(), 0xD8).AsInt32().Store(raw + r * 16);
                Avx2.Permute4x64(hi.AsInt64(), 0xD8).AsInt32().Store(raw + r * 16 + 8);
            }
            return;
        }
        FoldPairsScalar(rows, raw);
    }

    /// <summary>The scalar oracle of <see cref="FoldPairs"/>.</summary>
    internal static void FoldPairsScalar(int rows, int* raw)
    {
        for (int i = 0; i < rows * 16; i++) raw[i] = raw[2 * i] + raw[2 * i + 1];
    }

    public static void Avx512(int rows, short* xw, int ldx, sbyte* panel, int groups, int* acc)
    {
        int r = 0;
        for (; r + 4 <= rows; r += 4) Avx512Rows4(xw + (long)r * ldx, ldx, panel, groups, acc + r * 32);
        for (; r < rows; r++) Avx512Row1(xw + (long)r * ldx, panel, groups, acc + r * 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Rows4(short* x0, int ldx, sbyte* w, int groups, int* acc)
    {
        short* x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
        var a00 = Vector512<int>.Zero; var a01 = a00; var a10 = a00; var a11 = a00;
        var a20 = a00; var a21 = a00; var a30 = a00; var a31 = a00;
        for (int g = 0; g < groups; g++, w += 64)
        {
            var w0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w));
            var w1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w + 32));
            int o = g * 4;
            var b = Vector512.Create(*(long*)(x0 + o)).AsInt16();
            a00 += Avx512BW.MultiplyAddAdjacent(b, w0); a01 += Avx512BW.MultiplyAddAdjacent(b, w1);
            b = Vector512.Create(*(long*)(x1 + o)).AsInt16();
            a10 += Avx512BW.MultiplyAddAdjacent(b, w0); a11 += Avx512BW.MultiplyAddAdjacent(b, w1);
            b = Vector512.Create(*(long*)(x2 + o)).AsInt16();
            a20 += Avx512BW.MultiplyAddAdjacent(b, w0); a21 += Avx512BW.MultiplyAddAdjacent(b, w1);
            b = Vector512.Create(*(long*)(x3 + o)).AsInt16();
            a30 += Avx512BW.MultiplyAddAdjacent(b, w0); a31 += Avx512BW.MultiplyAddAdjacent(b, w1);
        }
        a00.Store(acc); a01.Store(acc + 16); a10.Store(acc + 32); a11.Store(acc + 48);
        a20.Store(acc + 64); a21.Store(acc + 80); a30.Store(acc + 96); a31.Store(acc + 112);
    }

    /// <summary>Two adjacent panels at once (4 rows × 32 columns, 16 accumulators): half the activation broadcasts per MAC.</summary>
    public static void Avx512TwoPanels(int rows, short* xw, int ldx, sbyte* panel, sbyte* panel2, int groups, int* acc, int* acc2)
    {
        int r = 0;
        for (; r + 4 <= rows; r += 4) Avx512Rows4x2(xw + (long)r * ldx, ldx, panel, panel2, groups, acc + r * 32, acc2 + r * 32);
        for (; r < rows; r++)
        {
            Avx512Row1(xw + (long)r * ldx, panel, groups, acc + r * 32);
            Avx512Row1(xw + (long)r * ldx, panel2, groups, acc2 + r * 32);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Rows4x2(short* x0, int ldx, sbyte* w, sbyte* v, int groups, int* acc, int* acc2)
    {
        short* x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
        var a00 = Vector512<int>.Zero; var a01 = a00; var a02 = a00; var a03 = a00;
        var a10 = a00; var a11 = a00; var a12 = a00; var a13 = a00;
        var a20 = a00; var a21 = a00; var a22 = a00; var a23 = a00;
        var a30 = a00; var a31 = a00; var a32 = a00; var a33 = a00;
        for (int g = 0; g < groups; g++, w += 64, v += 64)
        {
            var w0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w));
            var w1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w + 32));
            var w2 = Avx512BW.ConvertToVector512Int16(Vector256.Load(v));
            var w3 = Avx512BW.ConvertToVector512Int16(Vector256.Load(v + 32));
            int o = g * 4;
            var b = Vector512.Create(*(long*)(x0 + o)).AsInt16();
            a00 += Avx512BW.MultiplyAddAdjacent(b, w0); a01 += Avx512BW.MultiplyAddAdjacent(b, w1);
            a02 += Avx512BW.MultiplyAddAdjacent(b, w2); a03 += Avx512BW.MultiplyAddAdjacent(b, w3);
            b = Vector512.Create(*(long*)(x1 + o)).AsInt16();
            a10 += Avx512BW.MultiplyAddAdjacent(b, w0); a11 += Avx512BW.MultiplyAddAdjacent(b, w1);
            a12 += Avx512BW.MultiplyAddAdjacent(b, w2); a13 += Avx512BW.MultiplyAddAdjacent(b, w3);
            b = Vector512.Create(*(long*)(x2 + o)).AsInt16();
            a20 += Avx512BW.MultiplyAddAdjacent(b, w0); a21 += Avx512BW.MultiplyAddAdjacent(b, w1);
            a22 += Avx512BW.MultiplyAddAdjacent(b, w2); a23 += Avx512BW.MultiplyAddAdjacent(b, w3);
            b = Vector512.Create(*(long*)(x3 + o)).AsInt16();
            a30 += Avx512BW.MultiplyAddAdjacent(b, w0); a31 += Avx512BW.MultiplyAddAdjacent(b, w1);
            a32 += Avx512BW.MultiplyAddAdjacent(b, w2); a33 += Avx512BW.MultiplyAddAdjacent(b, w3);
        }
        a00.Store(acc); a01.Store(acc + 16); a10.Store(acc + 32); a11.Store(acc + 48);
        a20.Store(acc + 64); a21.Store(acc + 80); a30.Store(acc + 96); a31.Store(acc + 112);
        a02.Store(acc2); a03.Store(acc2 + 16); a12.Store(acc2 + 32); a13.Store(acc2 + 48);
        a22.Store(acc2 + 64); a23.Store(acc2 + 80); a32.Store(acc2 + 96); a33.Store(acc2 + 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Row1(short* x0, sbyte* w, int groups, int* acc)
    {
        var a0 = Vector512<int>.Zero; var a1 = a0;
        for (int g = 0; g < groups; g++, w += 64)
        {
            var w0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w));
            var w1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(w + 32));
            var b = Vector512.Create(*(long*)(x0 + g * 4)).AsInt16();
            a0 += Avx512BW.MultiplyAddAdjacent(b, w0); a1 += Avx512BW.MultiplyAddAdjacent(b, w1);
        }
        a0.Store(acc); a1.Store(acc + 16);
    }

    // ---------------------------------------------------------------- AVX2: the same with 256-bit vectors (4 columns per vector)

    public static void Avx2Path(int rows, short* xw, int ldx, sbyte* panel, int groups, int* acc)
    {
        int r = 0;
        for (; r + 2 <= rows; r += 2) Avx2Rows2(xw + (long)r * ldx, ldx, panel, groups, acc + r * 32);
        for (; r < rows; r++) Avx2Row1(xw + (long)r * ldx, panel, groups, acc + r * 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Rows2(short* x0, int ldx, sbyte* w, int groups, int* acc)
    {
        short* x1 = x0 + ldx;
        var a00 = Vector256<int>.Zero; var a01 = a00; var a02 = a00; var a03 = a00;
        var a10 = a00; var a11 = a00; var a12 = a00; var a13 = a00;
        for (int g = 0; g < groups; g++, w += 64)
        {
            var w0 = Avx2.ConvertToVector256Int16(Vector128.Load(w));
            var w1 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 16));
            var w2 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 32));
            var w3 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 48));
            var b = Vector256.Create(*(long*)(x0 + g * 4)).AsInt16();
            a00 += Avx2.MultiplyAddAdjacent(b, w0); a01 += Avx2.MultiplyAddAdjacent(b, w1);
            a02 += Avx2.MultiplyAddAdjacent(b, w2); a03 += Avx2.MultiplyAddAdjacent(b, w3);
            b = Vector256.Create(*(long*)(x1 + g * 4)).AsInt16();
            a10 += Avx2.MultiplyAddAdjacent(b, w0); a11 += Avx2.MultiplyAddAdjacent(b, w1);
            a12 += Avx2.MultiplyAddAdjacent(b, w2); a13 += Avx2.MultiplyAddAdjacent(b, w3);
        }
        a00.Store(acc); a01.Store(acc + 8); a02.Store(acc + 16); a03.Store(acc + 24);
        a10.Store(acc + 32); a11.Store(acc + 40); a12.Store(acc + 48); a13.Store(acc + 56);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Row1(short* x0, sbyte* w, int groups, int* acc)
    {
        var a0 = Vector256<int>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        for (int g = 0; g < groups; g++, w += 64)
        {
            var b = Vector256.Create(*(long*)(x0 + g * 4)).AsInt16();
            a0 += Avx2.MultiplyAddAdjacent(b, Avx2.ConvertToVector256Int16(Vector128.Load(w)));
            a1 += Avx2.MultiplyAddAdjacent(b, Avx2.ConvertToVector256Int16(Vector128.Load(w + 16)));
            a2 += Avx2.MultiplyAddAdjacent(b, Avx2.ConvertToVector256Int16(Vector128.Load(w + 32)));
            a3 += Avx2.MultiplyAddAdjacent(b, Avx2.ConvertToVector256Int16(Vector128.Load(w + 48)));
        }
        a0.Store(acc); a1.Store(acc + 8); a2.Store(acc + 16); a3.Store(acc + 24);
    }

    // ---------------------------------------------------------------- AVX-VNNI: vpdpbusd ymm (u8 × s8, 4 products → s32, no saturation)
    // The 64-byte k-group is exactly two vpdpbusd weight operands (columns 0-7, 8-15); the activation operand is the group's
    // 4 u8 values broadcast as one int32. Lanes are columns, so no final reduction.

    public static void Vnni(int rows, byte* xq, int ldx, sbyte* panel, int groups, int* acc)
    {
#if NET10_0_OR_GREATER
        int r = 0;
        for (; r + 6 <= rows; r += 6) VnniRows6(xq + (long)r * ldx, ldx, panel, groups, acc + r * 16);
        if (r + 4 <= rows) { VnniRows4(xq + (long)r * ldx, ldx, panel, groups, acc + r * 16); r += 4; }
        if (r + 2 <= rows) { VnniRows2(xq + (long)r * ldx, ldx, panel, groups, acc + r * 16); r += 2; }
        if (r < rows) VnniRow1(xq + (long)r * ldx, panel, groups, acc + r * 16);
#else
        throw new PlatformNotSupportedException("AVX-VNNI path needs .NET 10");
#endif
    }

#if NET10_0_OR_GREATER
    /// <summary>The main tile: 6 rows × 16 columns = 12 independent accumulator chains, which is what it takes to keep two
    /// vpdpbusd per cycle in flight at a latency of ~5 cycles (4 rows = 8 chains ran at ≤ 80 % of the issue rate). 12
    /// accumulators + 2 weight vectors + 1 broadcast = 15 of the 16 registers a VEX instruction can name.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VnniRows6(byte* x0, int ldx, sbyte* w, int groups, int* acc)
    {
        byte* x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx, x4 = x3 + ldx, x5 = x4 + ldx;
        var a00 = Vector256<int>.Zero; var a01 = a00; var a10 = a00; var a11 = a00; var a20 = a00; var a21 = a00;
        var a30 = a00; var a31 = a00; var a40 = a00; var a41 = a00; var a50 = a00; var a51 = a00;
        for (int g = 0; g < groups; g++, w += 64)
        {
            var w0 = Vector256.Load(w); var w1 = Vector256.Load(w + 32);
            int o = g * 4;
            var b = Vector256.Create(*(int*)(x0 + o)).AsByte();
            a00 = AvxVnni.MultiplyWideningAndAdd(a00, b, w0); a01 = AvxVnni.MultiplyWideningAndAdd(a01, b, w1);
            b = Vector256.Create(*(int*)(x1 + o)).AsByte();
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, b, w0); a11 = AvxVnni.MultiplyWideningAndAdd(a11, b, w1);
            b = Vector256.Create(*(int*)(x2 + o)).AsByte();
            a20 = AvxVnni.MultiplyWideningAndAdd(a20, b, w0); a21 = AvxVnni.MultiplyWideningAndAdd(a21, b, w1);
            b = Vector256.Create(*(int*)(x3 + o)).AsByte();
            a30 = AvxVnni.MultiplyWideningAndAdd(a30, b, w0); a31 = AvxVnni.MultiplyWideningAndAdd(a31, b, w1);
            b = Vector256.Create(*(int*)(x4 + o)).AsByte();
            a40 = AvxVnni.MultiplyWideningAndAdd(a40, b, w0); a41 = AvxVnni.MultiplyWideningAndAdd(a41, b, w1);
            b = Vector256.Create(*(int*)(x5 + o)).AsByte();
            a50 = AvxVnni.MultiplyWideningAndAdd(a50, b, w0); a51 = AvxVnni.MultiplyWideningAndAdd(a51, b, w1);
        }
        a00.Store(acc); a01.Store(acc + 8); a10.Store(acc + 16); a11.Store(acc + 24); a20.Store(acc + 32); a21.Store(acc + 40);
        a30.Store(acc + 48); a31.Store(acc + 56); a40.Store(acc + 64); a41.Store(acc + 72); a50.Store(acc + 80); a51.Store(acc + 88);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VnniRows2(byte* x0, int ldx, sbyte* w, int groups, int* acc)
    {
        byte* x1 = x0 + ldx;
        var a00 = Vector256<int>.Zero; var a01 = a00; var a10 = a00; var a11 = a00;
        for (int g = 0; g < groups; g++, w += 64)
        {
            var w0 = Vector256.Load(w); var w1 = Vector256.Load(w + 32);
            var b = Vector256.Create(*(int*)(x0 + g * 4)).AsByte();
            a00 = AvxVnni.MultiplyWideningAndAdd(a00, b, w0); a01 = AvxVnni.MultiplyWideningAndAdd(a01, b, w1);
            b = Vector256.Create(*(int*)(x1 + g * 4)).AsByte();
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, b, w0); a11 = AvxVnni.MultiplyWideningAndAdd(a11, b, w1);
        }
        a00.Store(acc); a01.Store(acc + 8); a10.Store(acc + 16); a11.Store(acc + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VnniRows4(byte* x0, int ldx, sbyte* w, int groups, int* acc)
    {
        byte* x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
        var a00 = Vector256<int>.Zero; var a01 = a00; var a10 = a00; var a11 = a00;
        var a20 = a00; var a21 = a00; var a30 = a00; var a31 = a00;
        for (int g = 0; g < groups; g++, w += 64)
        {
            var w0 = Vector256.Load(w); var w1 = Vector256.Load(w + 32);
            int o = g * 4;
            var b = Vector256.Create(*(int*)(x0 + o)).AsByte();
            a00 = AvxVnni.MultiplyWideningAndAdd(a00, b, w0); a01 = AvxVnni.MultiplyWideningAndAdd(a01, b, w1);
            b = Vector256.Create(*(int*)(x1 + o)).AsByte();
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, b, w0); a11 = AvxVnni.MultiplyWideningAndAdd(a11, b, w1);
            b = Vector256.Create(*(int*)(x2 + o)).AsByte();
            a20 = AvxVnni.MultiplyWideningAndAdd(a20, b, w0); a21 = AvxVnni.MultiplyWideningAndAdd(a21, b, w1);
            b = Vector256.Create(*(int*)(x3 + o)).AsByte();
            a30 = AvxVnni.MultiplyWideningAndAdd(a30, b, w0); a31 = AvxVnni.MultiplyWideningAndAdd(a31, b, w1);
        }
        a00.Store(acc); a01.Store(acc + 8); a10.Store(acc + 16); a11.Store(acc + 24);
        a20.Store(acc + 32); a21.Store(acc + 40); a30.Store(acc + 48); a31.Store(acc + 56);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VnniRow1(byte* x0, sbyte* w, int groups, int* acc)
    {
        var a0 = Vector256<int>.Zero; var a1 = a0;
        for (int g = 0; g < groups; g++, w += 64)
        {
            var b = Vector256.Create(*(int*)(x0 + g * 4)).AsByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, b, Vector256.Load(w));
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, b, Vector256.Load(w + 32));
        }
        a0.Store(acc); a1.Store(acc + 8);
    }
#endif
}
