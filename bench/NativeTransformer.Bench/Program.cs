using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

// NativeTransformer benchmarks. The real kernel and end-to-end benchmarks arrive with the runtime; until
// then one placeholder keeps the harness runnable:
//   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*'
//   dotnet run -c Release --project bench/NativeTransformer.Bench -- --list flat
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

namespace NativeTransformer.Bench
{
    /// <summary>Placeholder: a scalar dot product over 4096 floats, so the harness has something to run.</summary>
    [MemoryDiagnoser]
    public class PlaceholderBenchmarks
    {
        private float[] _a = [], _b = [];

        [GlobalSetup]
        public void Setup()
        {
            var rng = new Random(42);
            _a = new float[4096];
            _b = new float[4096];
            for (int i = 0; i < _a.Length; i++) { _a[i] = (float)rng.NextDouble(); _b[i] = (float)rng.NextDouble(); }
        }

        [Benchmark]
        public float DotScalar()
        {
            float s = 0;
            for (int i = 0; i < _a.Length; i++) s += _a[i] * _b[i];
            return s;
        }
    }
}
