using System.Runtime.CompilerServices;
using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Int8;
using NativeTransformer.Kernels.Packed;
using NativeTransformer.Kernels.Sparse;
using NativeTransformer.Models;
using NativeTransformer.Weights;

namespace NativeTransformer;

/// <summary>
/// Computes a <see cref="MemoryEstimate"/> from what a load would allocate, part by part, mirroring the loader:
/// the mapped checkpoint, the packed (fp32) or quantized (int8) copy of every encoder Linear (query/key/value fused),
/// converted copies, the run state of <see cref="RunState"/>, the tokenizer and the worker threads. Inputs are the
/// config, the tokenizer and the safetensors headers: no weight byte is read.
/// </summary>
internal static class MemoryEstimator
{
    /// <summary>RSS of the JIT runtime running ntr with nothing loaded (runtime, JIT, loaded assemblies, GC heap
    /// reserve), fitted on the measured table in the README (bert-tiny to MiniLM, 2-core Linux x64, .NET 10).</summary>
    internal const long JitBaselineBytes = 45L << 20;
    /// <summary>The same for the native AOT binary (build/publish-aot.sh: no JIT, no IL to load), fitted the same way.</summary>
    internal const long AotBaselineBytes = 17L << 20;
    /// <summary>Retained bytes per vocabulary entry: the token string, its dictionary entry and the id → token array.</summary>
    internal const int TokenizerBytesPerToken = 120;
    /// <summary>Pages Linux maps around a page fault on a file mapping that are already in the page cache
    /// (/sys/kernel/debug/fault_around_bytes, 64 KiB by default).</summary>
    internal const long FaultAroundBytes = 64 << 10;
    /// <summary>Touched stack and thread bookkeeping of one worker thread.</summary>
    internal const int WorkerThreadBytes = 256 << 10;

    public static bool IsAot => !RuntimeFeature.IsDynamicCodeSupported;

    public static MemoryEstimate Estimate(ModelConfig config, int tokenizerVocab, LoadOptions options, int maxLength, int runStates,
        IReadOnlyList<SafetensorsHeaderReader.FileHeader> files, PackedCacheUse cache = PackedCacheUse.None)
    {
        // The NaN/Inf scan at load reads every float tensor bound, so all of them become resident — unless a packed-weights
        // cache file vouches for these files (then nothing is scanned). A cache hit also means the fp32 encoder Linears
        // come from the cache file (same bytes as packing them) without reading their source or concatenating Q/K/V.
        bool scanned = cache != PackedCacheUse.HitValidated;
        bool fromCache = cache is PackedCacheUse.Hit or PackedCacheUse.HitValidated;
        var byName = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (var f in files) foreach (var t in f.Tensors) byName.TryAdd(t.Name, t);
        var keys = CheckpointLayout.For(config, CheckpointLayout.DetectPrefix(config.Family, byName.ContainsKey));
        int threads = options.Threads > 0 ? options.Threads : CpuTopology.PhysicalCores;
        var kept = Compression.LayerSelection.Resolve(config.NumLayers, options.KeepLayers, options.DropTopLayers)
            ?? Enumerable.Range(0, config.NumLayers).ToArray();

        // Distinct weighted layers that run (ALBERT: the groups its kept layers use).
        var layers = kept.Select(i => config.Family == ModelFamily.Albert
            ? (int)(i / ((double)config.NumLayers / config.NumHiddenGroups)) : i).Distinct().ToArray();
        var dropped = Enumerable.Range(0, config.WeightedLayers).Except(layers).Select(keys.Layer).ToArray();
        // The fp32 encoder Linear weights a cache hit serves (int8-at-load ones are packed from their source).
        var cachedWeights = new HashSet<string>(StringComparer.Ordinal);
        foreach (int g in layers)
        {
            var k = keys.Layer(g);
            foreach (var (key, flag) in LinearsOf(k))
                if (!(options.Int8 && options.Int8Layers.HasFlag(flag))) cachedWeights.Add(key + ".weight");
        }
        bool IsCachedLinearWeight(string name) => cachedWeights.Contains(name);

        // 1. The mapping. Pages count in RSS once touched (file-backed). Packing reads every kept Linear and the small
        // tensors are read whole, so those count in full; the layers a drop leaves out are never touched. The word
        // embeddings are read one row per token: a batch touches at most B·L rows, and each first touch maps the
        // fault-around window (64 KiB) of the page cache around it, so they count min(table, B·L · 64 KiB). A long-running
        // process that sees many distinct tokens grows toward the whole table; those pages are clean and file-backed,
        // which the kernel reclaims under pressure instead of failing. Non-F32 float tensors are converted to fp32 once.
        long mapped = 0, converted = 0, tokens = (long)options.BatchSize * maxLength;
        foreach (var f in files)
        {
            long droppedBytes = f.Tensors.Where(t => IsInDroppedLayer(t.Name, dropped)).Sum(t => t.ByteLength);
            var table = f.Tensors.FirstOrDefault(t => t.Name == keys.WordEmbeddings);
            bool tableScanned = scanned && table is not null && table.DType != DType.I8;
            long untouched = table is null || tableScanned ? 0 : table.ByteLength - Math.Min(table.ByteLength, Math.Min(config.VocabSize, tokens) * FaultAroundBytes);
            if (fromCache && !scanned)
                untouched += f.Tensors.Where(t => t.DType != DType.I8 && !IsInDroppedLayer(t.Name, dropped) && IsCachedLinearWeight(t.Name)).Sum(t => t.ByteLength);
            mapped += f.DeclaredLength - droppedBytes - untouched;
            converted += f.Tensors.Where(t => t.DType is DType.F16 or DType.BF16 or DType.F64 && !IsInDroppedLayer(t.Name, dropped))
                .Sum(t => t.ElementCount * sizeof(float));
        }

        // 2. Linear copies, one per distinct layer, as EncoderLayerBuilder decides precision.
        long fp32Packed = 0, int8Packed = 0, temporaries = 0;
        int fp32Count = 0, int8Count = 0;
        long BiasNotOwned(int n) => keys.LinearBiases ? 0 : (long)n * sizeof(float); // T5's Linears own no bias copy
        void Add(bool int8, int n, int k)
        {
            if (int8) { int8Packed += Int8Bytes(n, k) - BiasNotOwned(n); int8Count++; }
            else { fp32Packed += Fp32Bytes(n, k, options.SparseKernels) - BiasNotOwned(n); fp32Count++; }
        }
        bool IsI8(string key) => byName.TryGetValue(key + ".weight", out var t) && t.DType == DType.I8;
        bool Int8(string key, Int8Linears flag) => IsI8(key) || options.Int8 && options.Int8Layers.HasFlag(flag);
        // t: the width attention and the FFNs work at (MobileBERT's intra_bottleneck_size, else H).
        int h = config.HiddenSize, inter = config.IntermediateSize, width = config.AttentionSize;
        var m = config.MobileBert;
        int qkIn = m is null ? h : width, vIn = m is null || m.UseBottleneckAttention || !m.UseBottleneck ? width : h;
        bool separateValue = m?.SeparateValue == true;
        foreach (int g in layers)
        {
            var k = keys.Layer(g);
            int a = config.HeadsInLayer(g) * config.HeadSize, fused = separateValue ? 2 * a : 3 * a;
            bool qkvStored8 = IsI8(k.Query) || IsI8(k.Key) || (!separateValue && IsI8(k.Value));
            bool qkv8 = qkvStored8 || options.Int8 && options.Int8Layers.HasFlag(Int8Linears.Qkv);
            Add(qkv8, fused, qkIn);
            // The fp32 [3A, H] concatenation the fused operator is built from: garbage once packed, but the GC does
            // not give it back before the load ends.
            if (!qkv8 && !fromCache) temporaries += (long)fused * qkIn * sizeof(float) + (long)fused * sizeof(float);
            if (separateValue) Add(Int8(k.Value, Int8Linears.Qkv), a, vIn);
            if (k.Global is { } global) // Longformer's fused query_global | key_global | value_global
            {
                bool global8 = IsI8(global.Query) || IsI8(global.Key) || IsI8(global.Value) || options.Int8 && options.Int8Layers.HasFlag(Int8Linears.Qkv);
                Add(global8, 3 * a, h);
                if (!global8 && !fromCache) temporaries += 3L * a * h * sizeof(float) + 3L * a * sizeof(float);
            }
            Add(Int8(k.AttentionOutput, Int8Linears.AttentionOutput), width, a);
            foreach (var f in k.ExtraFeedForwards.Append((k.Intermediate, k.Output, k.OutputNorm)))
            {
                Add(Int8(f.Item1, Int8Linears.Intermediate), inter, width);
                Add(Int8(f.Item2, Int8Linears.Output), width, inter);
            }
            if (k.Gate is { } gate) Add(Int8(gate, Int8Linears.Intermediate), inter, width); // T5's gated FFN
            if (k.InputBottleneck is { } ib) Add(Int8(ib.Dense, Int8Linears.Bottleneck), width, h);
            if (k.AttentionBottleneck is { } ab) Add(Int8(ab.Dense, Int8Linears.Bottleneck), width, h);
            if (k.OutputBottleneck is { } ob) Add(Int8(ob.Dense, Int8Linears.Bottleneck), h, width);
        }
        int e = config.EmbeddingSize;
        if (keys.EmbeddingProjection is not null) Add(false, h, config.ProjectionInputSize);

        // 3. The tied masked-LM decoder of an int8-embeddings folder is dequantized once.
        long dequantized = 0;
        if (byName.ContainsKey(keys.MaskedLmTransform + ".weight") && !byName.ContainsKey(keys.MaskedLmDecoder)
            && byName.TryGetValue(keys.WordEmbeddings, out var word) && word.DType == DType.I8)
            dequantized = (long)config.VocabSize * e * sizeof(float);

        bool anyInt8 = int8Count > 0;
        long runState = RunStateBytes(config, options.BatchSize, maxLength, threads, anyInt8);

        var parts = new List<MemoryPart>
        {
            new("mapped weights", mapped, $"{files.Count} safetensors file(s), resident once touched" + (scanned
                ? " (every float tensor is read by the NaN/Inf check)" : " (word embeddings: the rows of one batch; cached Linears not read)")),
            new("fp32 packed Linears", fp32Packed, $"{fp32Count} operators, panels of {PackedMatrix.PanelWidth} columns" +
                (options.SparseKernels == SparseKernels.Always ? " (sparse: worst case, every weight nonzero)" : "")),
            new("int8 Linears", int8Packed, $"{int8Count} operators, packed int8 + scales + column sums"),
            new("load temporaries", temporaries, "fp32 query|key|value concatenations, garbage after packing"),
            new("pack-cache write", cache == PackedCacheUse.Miss ? fp32Packed : 0, "a first load writes the packed-weights cache file and reads it back once for its checksums"),
            new("converted tensors", converted + dequantized, "fp32 copies of F16/BF16/F64 tensors" + (dequantized > 0 ? " and the dequantized masked-LM decoder" : "")),
            new("run state", runStates * runState, $"{runStates} × activations for batch {options.BatchSize} × {maxLength} tokens, {threads} attention scratch(es)" + (anyInt8 ? ", int8 activation scratch" : "")),
            new("tokenizer", (long)tokenizerVocab * TokenizerBytesPerToken, $"{tokenizerVocab} vocabulary entries"),
            new("worker threads", (long)(threads - 1) * WorkerThreadBytes, $"{threads - 1} pool thread(s)"),
        };
        return new MemoryEstimate
        {
            Parts = parts, ProcessBaselineBytes = IsAot ? AotBaselineBytes : JitBaselineBytes, Runtime = IsAot ? "native-aot" : "jit",
            BatchSize = options.BatchSize, MaxLength = maxLength, Threads = threads, RunStates = runStates,
        };
    }

    /// <summary>How a load will use the packed-weights cache (<see cref="Weights.PackedCache.PackedWeightsCache.Probe"/>).</summary>
    public enum PackedCacheUse { None, Miss, Hit, HitValidated }

    private static bool IsInDroppedLayer(string name, LayerKeys[] dropped)
    {
        foreach (var k in dropped)
            foreach (var key in k.All())
                if (name.StartsWith(key, StringComparison.Ordinal) && name.Length > key.Length && name[key.Length] == '.') return true;
        return false;
    }

    /// <summary>Every Linear of a layer with the <see cref="Int8Linears"/> flag that selects it for int8.</summary>
    private static IEnumerable<(string Key, Int8Linears Flag)> LinearsOf(LayerKeys k)
    {
        (string, Int8Linears)[] core = [(k.Query, Int8Linears.Qkv), (k.Key, Int8Linears.Qkv), (k.Value, Int8Linears.Qkv),
            (k.AttentionOutput, Int8Linears.AttentionOutput), (k.Intermediate, Int8Linears.Intermediate), (k.Output, Int8Linears.Output)];
        foreach (var c in core) yield return c;
        foreach (var f in k.ExtraFeedForwards) { yield return (f.Intermediate, Int8Linears.Intermediate); yield return (f.Output, Int8Linears.Output); }
        foreach (var b in new[] { k.InputBottleneck, k.AttentionBottleneck, k.OutputBottleneck })
            if (b is { } pair) yield return (pair.Dense, Int8Linears.Bottleneck);
        if (k.Global is { } g) { yield return (g.Query, Int8Linears.Qkv); yield return (g.Key, Int8Linears.Qkv); yield return (g.Value, Int8Linears.Qkv); }
    }

    /// <summary>A <see cref="PackedLinear"/>: its packed matrix (<see cref="PackedMatrix.StorageBytes"/>) and the bias. Under
    /// <see cref="SparseKernels.Auto"/> a sparse operator is only picked at ≥ 80 % zeros, where it is smaller than this, so
    /// dense is the bound; <see cref="SparseKernels.Always"/> is bounded by every weight being stored (value + column).</summary>
    internal static long Fp32Bytes(int n, int k, SparseKernels sparse)
    {
        long bias = (long)n * sizeof(float);
        if (sparse == SparseKernels.Always)
        {
            long slices = (n + SparseMatrix.SliceWidth - 1) / SparseMatrix.SliceWidth;
            return slices * SparseMatrix.SliceWidth * k * (sizeof(float) + sizeof(int)) + (slices + 1) * sizeof(int) + bias;
        }
        return PackedMatrix.StorageBytes(n, k) + bias;
    }

    /// <summary>A <see cref="QuantizedLinear"/>: int8 panels of 16 columns × K rounded to 4, padded scales and column sums, the bias.</summary>
    internal static long Int8Bytes(int n, int k) => QuantizedMatrix.StorageBytes(n, k) + (long)n * sizeof(float);

    /// <summary>One <see cref="RunState"/> for batch × seq tokens, as its constructor allocates.</summary>
    internal static long RunStateBytes(ModelConfig c, int batch, int seq, int threads, bool int8)
    {
        long tokens = (long)batch * seq;
        var m = c.MobileBert;
        long t = c.AttentionSize, inner = c.AttentionInnerSize; // inner ≠ t in T5 only
        long floats = (c.ProjectionInputSize == c.HiddenSize && !c.ProjectsWordEmbeddings ? 0 : tokens * c.ProjectionInputSize)
            + tokens * c.HiddenSize          // Hidden
            + tokens * (inner * 4 + t)       // Qkv (3·inner), Context (inner), Attended (T)
            + tokens * c.IntermediateSize * (c.T5 is { IsGatedAct: true } ? 2 : 1) // Ffn, T5's Gate
            + (m is { UseBottleneck: true } ? tokens * (t + c.HiddenSize) : 0)                        // LayerInput, NextHidden
            + (m is { KeyQuerySharedBottleneck: true, UseBottleneckAttention: false } ? tokens * t : 0) // SharedInput
            + (m is not null ? tokens * t : 0)                                                        // Attended2
            + (c.Longformer is null ? 0 : tokens * 3 * t + tokens)                                   // GlobalQkv, GlobalPositions
            + (long)threads * RunState.AttentionScratchLength(c, seq);
        long bytes = floats * sizeof(float);
        if (int8)
        {
            long k4 = (RunState.MaxInt8Input(c) + 3) & ~3;
            bytes += (tokens * k4 + 64) * (sizeof(byte) + sizeof(short)) + 2 * (tokens + 1) * sizeof(float);
        }
        return bytes;
    }
}
