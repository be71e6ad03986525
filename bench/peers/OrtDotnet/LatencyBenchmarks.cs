using System.Text.Json;
using BenchmarkDotNet.Attributes;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Bench.Peers;

/// <summary>
/// Encoder latency, ours vs ONNX Runtime (NuGet, in-process), on the same real weights (our safetensors folder and the
/// original ONNX file they came from; int8 = our dynamic int8 vs ORT on the onnx_int8.py rewrite) and the same random
/// token ids ([CLS] … [SEP], full attention mask). One call = one forward pass producing the last hidden state.
/// Paths come from the environment (BenchmarkDotNet runs every case in a child process, which inherits it):
/// NTB_MODEL, NTB_ONNX_FP32, NTB_ONNX_INT8; NTB_SIDE_FILE receives one JSON line per case (peak RSS, ISA path, CPU).
/// </summary>
public class LatencyBenchmarks
{
    public const int Seq = 128;

    [Params("ours", "onnxruntime")] public string Engine { get; set; } = "ours";
    [Params("fp32", "int8")] public string Precision { get; set; } = "fp32";
    [Params(1, 32)] public int Batch { get; set; }
    [Params(1, 2)] public int Threads { get; set; }

    private TransformerModel? _ours;
    private OrtEncoder? _ort;
    private EncodedBatch _input = null!;

    [GlobalSetup]
    public void Setup()
    {
        string model = Env("NTB_MODEL");
        // Both engines read the same ids; our tokenizer only provides [CLS]/[SEP] and the vocabulary size.
        var tokenizer = TokenizerLoader.FromDirectory(model);
        _input = RandomBatch(tokenizer, Batch, Seq);
        if (Engine == "ours")
            _ours = TransformerModel.Load(model, new LoadOptions { Threads = Threads, Int8 = Precision == "int8", BatchSize = Batch, MaxLength = Seq });
        else
            _ort = new OrtEncoder(Env(Precision == "int8" ? "NTB_ONNX_INT8" : "NTB_ONNX_FP32"), Threads);
        // Untimed warm-up, the same for both engines: at least 3 calls and 1 s. Ours is JIT-compiled: a method called
        // once per forward reaches tier 1 only after 30 calls, so BenchmarkDotNet's 2 warm-up calls timed tier-0 code
        // (p50 78 ms against 39 ms warm, real MiniLM batch 1, Zen 3).
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (int calls = 0; calls < 3 || watch.Elapsed.TotalSeconds < 1; calls++) Forward();
    }

    [Benchmark]
    public void Forward()
    {
        if (_ours != null) _ours.Forward(_input);
        else _ort!.LastHiddenState(_input);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        string? side = Environment.GetEnvironmentVariable("NTB_SIDE_FILE");
        if (!string.IsNullOrEmpty(side))
        {
            var line = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["engine"] = Engine, ["precision"] = Precision, ["batch"] = Batch, ["threads"] = Threads, ["seq"] = Seq,
                ["peak_rss_mb"] = Math.Round(Machine.PeakRssMb(), 1),
                ["isa"] = _ours?.KernelDescription ?? OrtEncoder.IsaNote,
                ["cpu"] = Machine.Cpu(),
                ["onnxruntime"] = OrtEncoder.Version,
            });
            File.AppendAllText(side, line + "\n");
        }
        _ours?.Dispose();
        _ort?.Dispose();
    }

    private static string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
        ? v : throw new InvalidOperationException($"{name} is not set (run through bench/peers/run.sh --real)");

    /// <summary>Fixed-seed ordinary word-piece ids between [CLS] and [SEP], every position attended (as ntr bench).</summary>
    internal static EncodedBatch RandomBatch(ITokenizer tokenizer, int batch, int seq)
    {
        var rng = new Random(42);
        int vocab = tokenizer.VocabSize, low = Math.Min(1000, vocab - 1);
        var specials = tokenizer.Encode("");
        var flat = new int[batch * seq];
        var rows = new Encoding[batch];
        for (int b = 0; b < batch; b++)
        {
            var ids = new int[seq];
            for (int i = 1; i < seq - 1; i++) ids[i] = rng.Next(low, vocab);
            ids[0] = specials.Ids[0]; ids[^1] = specials.Ids[^1];
            ids.CopyTo(flat, b * seq);
            rows[b] = new Encoding(ids, new int[seq], new string[seq], new (int, int)[seq], new int[seq], false);
        }
        return new EncodedBatch(batch, seq, flat, new int[batch * seq], Enumerable.Repeat(1, batch * seq).ToArray(),
            Enumerable.Repeat(seq, batch).ToArray(), rows);
    }
}
