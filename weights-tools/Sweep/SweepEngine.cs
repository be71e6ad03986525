using NativeTransformer.Compression;
using System.Diagnostics;
using NativeTransformer.Evaluation;

namespace NativeTransformer.WeightsTools.Sweep;

/// <summary>
/// Evaluates sweep points of one model and task in this process: folder steps write temporary folders (cached, so
/// e.g. one pruned folder serves every precision and drop-top), load-time steps set <see cref="LoadOptions"/>. Each
/// point is loaded, evaluated with <see cref="Evaluator"/>, and timed at batch 1 on a fixed list of inputs.
/// Disposing deletes the temporary folders.
/// </summary>
public sealed class SweepEngine : IDisposable
{
    public const int DefaultLatencySentences = 64;
    public const int WarmupSentences = 8;

    private readonly string _temp = Directory.CreateTempSubdirectory("nt-sweep-").FullName;
    private readonly Dictionary<string, string> _folders = new(StringComparer.Ordinal);
    private int _folderCount;
    private bool _warmedUp;

    public string ModelDir { get; }
    public EvalTask Task { get; }
    public int Threads { get; }
    public IReadOnlyList<ISweepStep> Steps { get; }

    public SweepEngine(string modelDir, EvalTask task, int threads = 1, IReadOnlyList<ISweepStep>? steps = null)
    {
        if (!Directory.Exists(modelDir)) throw new InputException($"{modelDir}: model folder not found");
        ModelDir = Path.GetFullPath(modelDir);
        Task = task;
        Threads = threads;
        Steps = steps ?? SweepSteps.Default;
    }

    /// <summary>The folder with every folder step of <paramref name="p"/> applied (the model folder itself when none applies).</summary>
    public string FolderFor(SweepPoint p)
    {
        string dir = ModelDir, key = "";
        foreach (var step in Steps)
        {
            if (step.AtLoad || step.IsIdentity(p)) continue;
            key += "/" + step.Name + ":" + step.Key(p);
            if (!_folders.TryGetValue(key, out var cached))
            {
                cached = Path.Combine(_temp, $"f{_folderCount++}");
                step.Write(dir, cached, p);
                _folders[key] = cached;
            }
            dir = cached;
        }
        return dir;
    }

    public LoadOptions OptionsFor(SweepPoint p)
    {
        var options = new LoadOptions { Threads = Threads };
        foreach (var step in Steps)
            if (step.AtLoad) options = step.Configure(options, p);
        return options;
    }

    /// <summary>Loads <paramref name="p"/>, evaluates it on <paramref name="examples"/> and times batch-1 calls on <paramref name="latencyInputs"/>.</summary>
    public (SweepMeasurement Measurement, EvalResult Result) Measure(SweepPoint p, IReadOnlyList<TaskExample> examples, IReadOnlyList<TextInput> latencyInputs)
    {
        string folder = FolderFor(p);
        using var model = TransformerModel.Load(folder, OptionsFor(p));
        var sw = Stopwatch.StartNew();
        var result = Evaluator.Evaluate(model, Task, examples);
        double throughput = examples.Count / Math.Max(sw.Elapsed.TotalSeconds, 1e-9);
        // The first model of the run also pays for JIT compilation of the forward path: time it once untimed.
        if (!_warmedUp) { MedianLatencyMs(model, latencyInputs); _warmedUp = true; }
        double p50 = MedianLatencyMs(model, latencyInputs);
        var (bytes, kind) = WeightBytes.Measure(folder, p);
        return (new SweepMeasurement(p, result.PrimaryPercent, p50, throughput, bytes, kind, Threads, latencyInputs.Count), result);
    }

    /// <summary>Median wall time of one call per input at batch 1, after <see cref="WarmupSentences"/> untimed calls.</summary>
    public double MedianLatencyMs(TransformerModel model, IReadOnlyList<TextInput> inputs)
    {
        if (inputs.Count == 0) return double.NaN;
        var one = new TextInput[1];
        void Run(TextInput input)
        {
            one[0] = input;
            if (Task.NeedsClassifier()) model.Classify(one); else model.Embed(one);
        }
        for (int i = 0; i < WarmupSentences; i++) Run(inputs[i % inputs.Count]);
        var times = new double[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Run(inputs[i]);
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(times);
        return times.Length % 2 == 1 ? times[times.Length / 2] : (times[times.Length / 2 - 1] + times[times.Length / 2]) / 2;
    }

    /// <summary>The latency inputs: the first <paramref name="count"/> examples (pairs as pairs; for STS-B the first sentence).</summary>
    public IReadOnlyList<TextInput> LatencyInputs(IReadOnlyList<TaskExample> examples, int count = DefaultLatencySentences) =>
        examples.Take(count).Select(e => Task == EvalTask.Stsb ? new TextInput(e.Text) : e.Input).ToArray();

    /// <summary>
    /// Writes <paramref name="p"/> as a folder: every non-identity step in its folder form, in order (layer dropping via
    /// LayerDropper, precision via <see cref="QuantizeFolder"/>); a plain copy when nothing applies.
    /// </summary>
    public void Materialize(SweepPoint p, string outDir)
    {
        var active = Steps.Where(s => !s.IsIdentity(p)).ToList();
        if (active.Count == 0) { FolderCopy.Copy(ModelDir, outDir); return; }
        string dir = ModelDir;
        for (int i = 0; i < active.Count; i++)
        {
            string target = i == active.Count - 1 ? outDir : Path.Combine(_temp, $"m{_folderCount++}");
            active[i].Write(dir, target, p);
            dir = target;
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
