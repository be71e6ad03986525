using NativeTransformer;

// weights-tools: offline weight transforms and research sweeps for NativeTransformer.
// Exit codes as ntr: 0 ok, 1 error, 2 usage error.
const string Help =
    "weights-tools - offline weight transforms for NativeTransformer\n\n" +
    "Usage: weights-tools <command> [arguments]\n\n" +
    "Commands:\n" +
    "  inspect DIR   Validate a model folder and print its summary (as 'ntr inspect').\n\n" +
    "More commands (quantize, prune, drop layers, sweeps) arrive in later issues.\n";

if (args.Length == 0)
{
    Console.Error.Write(Help);
    return 2;
}
if (args[0] is "-h" or "--help" or "help")
{
    Console.Out.Write(Help);
    return 0;
}

try
{
    switch (args[0])
    {
        case "inspect" when args.Length == 2 && !args[1].StartsWith('-'):
            var s = TransformerModel.Inspect(args[1]);
            Console.Out.Write(
                $"directory:         {s.Directory}\n" +
                $"architecture:      {s.Architecture}\n" +
                $"model type:        {s.ModelType}\n" +
                $"layers × hidden:   {s.Layers} × {s.HiddenSize} (heads {s.AttentionHeads}, intermediate {s.IntermediateSize})\n" +
                $"vocab size:        {s.VocabSize}\n" +
                $"parameters:        {s.ParameterCount:N0}\n" +
                $"weight bytes:      {s.WeightBytes:N0}\n" +
                $"tensors by dtype:  {string.Join(", ", s.TensorsByDType.Select(kv => $"{kv.Key}={kv.Value}"))}\n" +
                $"output heads:      {string.Join(", ", s.OutputHeads)}\n" +
                $"has weights:       {(s.HasWeights ? "yes" : "no")}\n");
            return 0;
        case "inspect":
            Console.Error.WriteLine("weights-tools: error: usage: weights-tools inspect DIR");
            return 2;
        default:
            Console.Error.WriteLine($"weights-tools: error: unknown command '{args[0]}' (see 'weights-tools --help')");
            return 2;
    }
}
catch (NativeTransformerException e)
{
    Console.Error.WriteLine("weights-tools: error: " + e.Message.ReplaceLineEndings(" "));
    return 1;
}
