using BenchmarkDotNet.Running;

// NativeTransformer kernel benchmarks (BenchmarkDotNet): fp32 packed GEMM and int8 GEMM at BERT shapes (each against
// the first unpacked fp32 kernel, with GFLOP/s (GOP/s) and % of per-core peak columns), attention per sequence.
//   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Fp32*'
//   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Int8*'
//   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Attention*'
//   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Activation*'
//   dotnet run -c Release --project bench/NativeTransformer.Bench -- --list flat
// End-to-end latency is `ntr bench`; the comparison with ONNX Runtime and PyTorch is bench/peers/run.sh.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
