using BenchmarkDotNet.Attributes;
using NativeTransformer.Kernels;

namespace NativeTransformer.Bench;

/// <summary>
/// Attention (scores, masked softmax, context) for the 12 heads of one sequence, each read in place from a fused
/// [tokens, 3H] QKV buffer as the encoder runs it: MiniLM / BERT-base head sizes 32 and 64, a full 128-token sequence
/// and a short 14-token text (STS-B's mean).
///   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Attention*'
/// </summary>
public unsafe class AttentionBenchmarks
{
    [Params(32, 64)] public int HeadSize { get; set; }
    [Params(14, 128)] public int Tokens { get; set; }

    private const int Heads = 12;
    private float[] _qkv = [], _out = [], _scratch = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        int stride = 3 * Heads * HeadSize;
        _qkv = GC.AllocateUninitializedArray<float>(Tokens * stride, pinned: true);
        for (int i = 0; i < _qkv.Length; i++) _qkv[i] = (float)(rng.NextDouble() * 2 - 1);
        _out = GC.AllocateUninitializedArray<float>(Tokens * Heads * HeadSize, pinned: true);
        _scratch = GC.AllocateUninitializedArray<float>(AttentionKernel.ScratchLength(Tokens, Tokens, HeadSize), pinned: true);
    }

    /// <summary>All heads of one sequence.</summary>
    [Benchmark]
    public void AllHeads()
    {
        int h = Heads * HeadSize, stride = 3 * h;
        float scale = 1f / MathF.Sqrt(HeadSize);
        fixed (float* qkv = _qkv, o = _out)
            for (int head = 0; head < Heads; head++)
            {
                float* q = qkv + head * HeadSize;
                AttentionKernel.SingleHead(q, q + h, q + 2 * h, stride, Tokens, Tokens, HeadSize, scale, o + head * HeadSize, h, _scratch);
            }
    }
}
