using NativeTransformer.WeightsTools;

// weights-tools: offline weight transforms and research sweeps for NativeTransformer.
// The logic lives in public classes (WeightsToolsApp, RandomModelGenerator) so tests can call it directly.
return WeightsToolsApp.Run(args, Console.Out, Console.Error);
