using System.Runtime.InteropServices;
using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Packed;
using NativeTransformer.Kernels.Sparse;
using NativeTransformer.Models;

namespace NativeTransformer.Weights.PackedCache;

/// <summary>
/// The packed-weights cache of one model load (<see cref="LoadOptions.PackedWeightsCache"/>): fp32 Linear weights in the
/// GEMM's panel layout (<see cref="PackedMatrix"/>) plus the sparse-policy decisions, written by the first load of a
/// folder and memory-mapped by later ones, so they neither repack (allocate, copy, transpose) nor re-check sparsity.
/// The GEMM reads the panels straight from the read-only mapping: the same bytes as a fresh pack, so results are
/// bitwise identical; the pages are clean and file-backed (the kernel can drop and re-read them under memory pressure).
/// <para>
/// One file per model folder and sparse mode (<c>&lt;FNV-1a of the full path and mode&gt;.ntrpack</c>); it is only used when its
/// recorded identity matches: format version, panel width, the folder's full path, sparse mode and, for config.json and
/// every *.safetensors / index file, name, size and modification time. A missing, damaged, truncated or mismatched file
/// is a miss: the weights are packed as without a cache and the file is rewritten (temp file + rename, so readers never
/// see a partial file). A cache that cannot be read or written (read-only folder, full disk) is silently skipped; the
/// cache never makes a load fail. Never rewrite a cache file in place: a mapped file that shrinks faults (SIGBUS).
/// </para>
/// <para>The folder keeps the most recently used <see cref="MaxFiles"/> files within <see cref="MaxBytes"/> (a hit
/// refreshes the file's time).</para>
/// </summary>
internal sealed unsafe class PackedWeightsCache : IDisposable
{
    public const string Extension = ".ntrpack";
    public const int MaxFiles = 32;
    public const long MaxBytes = 2L << 30;

    private readonly string _directory;
    private readonly string _path;
    private readonly string _identity;
    private readonly MappedFile? _map;
    private readonly Dictionary<string, PackedCacheFormat.Entry>? _entries;
    private readonly List<(string Key, int Out, int In, LinearOperator Op)> _built = [];
    private bool _missed;
    private bool _validatedNow;

    /// <summary>The file says the source weights were scanned for NaN/Inf and were all finite (header flag bit 0), so a
    /// hit may skip that scan: the identity guarantees the same source files.</summary>
    public bool SourceValidated { get; }

    /// <summary>True when the cache file existed and was valid (operators come from it unless their key is missing).</summary>
    public bool Loaded => _entries is not null;
    /// <summary>Operators taken from the file / built because they were missing from it (tests, diagnostics).</summary>
    public int Hits { get; private set; }
    public int Misses { get; private set; }
    /// <summary>The cache file this load reads and writes.</summary>
    public string FilePath => _path;

    private PackedWeightsCache(string directory, string path, string identity, MappedFile? map, Dictionary<string, PackedCacheFormat.Entry>? entries)
    {
        _directory = directory; _path = path; _identity = identity; _map = map; _entries = entries;
        SourceValidated = map is not null && entries is not null && (*(int*)(map.Base + PackedCacheFormat.FlagsOffset) & PackedCacheFormat.FlagSourceValidated) != 0;
    }

    /// <summary>This load scanned every source tensor and found them finite: the file written (or rewritten) records it.</summary>
    public void MarkSourceValidated() => _validatedNow = true;

    /// <summary>$XDG_CACHE_HOME/ntr/packed, else ~/.cache/ntr/packed, else a per-user folder in the temp dir.</summary>
    public static string DefaultDirectory() =>
        UserFolders.CacheHome() is { } cache ? Path.Combine(cache, "ntr", "packed") : Path.Combine(UserFolders.TempFolder(), "packed");

    /// <summary>What a load with this cache folder would find (for the memory estimate): none, a miss, a hit, a hit that
    /// also skips the NaN/Inf scan. Validates the file like a load does; never throws.</summary>
    public static MemoryEstimator.PackedCacheUse Probe(string modelDirectory, string? cacheDirectory, SparseKernels sparse)
    {
        if (cacheDirectory is null) return MemoryEstimator.PackedCacheUse.None;
        using var cache = Open(modelDirectory, cacheDirectory, sparse);
        return cache.Use;
    }

    /// <summary>What this load finds in the cache, for the memory estimate.</summary>
    public MemoryEstimator.PackedCacheUse Use => !Loaded ? MemoryEstimator.PackedCacheUse.Miss
        : SourceValidated ? MemoryEstimator.PackedCacheUse.HitValidated : MemoryEstimator.PackedCacheUse.Hit;

    /// <summary>Opens the cache of <paramref name="modelDirectory"/> in <paramref name="cacheDirectory"/>. Never throws: a cache
    /// that cannot be read is simply empty.</summary>
    public static PackedWeightsCache Open(string modelDirectory, string cacheDirectory, SparseKernels sparse)
    {
        string full = Path.GetFullPath(modelDirectory);
        string name = $"v{PackedCacheFormat.Version};pw{PackedMatrix.PanelWidth};sparse={sparse};le={BitConverter.IsLittleEndian};dir={full}";
        string path = Path.Combine(cacheDirectory, Fnv1a(name).ToString("x16") + Extension);
        string identity = name;
        MappedFile? map = null;
        try
        {
            identity = name + SourceFiles(full);
            if (!BitConverter.IsLittleEndian || !File.Exists(path)) return new(cacheDirectory, path, identity, null, null);
            map = new MappedFile(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete));
            var entries = PackedCacheFormat.Read(map.Base, map.Length, identity, PackedMatrix.PanelWidth);
            if (entries is null) { map.Dispose(); return new(cacheDirectory, path, identity, null, null); }
            TryTouch(path);
            return new(cacheDirectory, path, identity, map, entries);
        }
        catch (Exception)
        {
            map?.Dispose();
            return new(cacheDirectory, path, identity, null, null);
        }
    }

    /// <summary>name|size|mtime of the files that define the weights (config.json, *.safetensors, *.safetensors.index.json).</summary>
    private static string SourceFiles(string directory)
    {
        var files = Directory.EnumerateFiles(directory)
            .Where(f => Path.GetFileName(f) is var n && (n == "config.json" || n.EndsWith(".safetensors", StringComparison.Ordinal)
                || n.EndsWith(".safetensors.index.json", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal);
        var sb = new System.Text.StringBuilder();
        foreach (var f in files)
        {
            var info = new FileInfo(f);
            sb.Append(';').Append(info.Name).Append('|').Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks);
        }
        return sb.ToString();
    }

    /// <summary>
    /// The fp32 operator for Linear <paramref name="key"/> [<paramref name="outFeatures"/>, <paramref name="inFeatures"/>]:
    /// from the file when it has it (then <paramref name="weights"/> is never called, unless the recorded decision is
    /// sparse: the sparse matrix is built from the source), else <paramref name="build"/>(<paramref name="weights"/>()).
    /// </summary>
    // The load-time NaN/Inf scan: a file whose flag says "source validated" lets the load skip it (SourceValidated);
    // the flag is written only when this load scanned every tensor clean (MarkSourceValidated).
    public LinearOperator Get(string key, int outFeatures, int inFeatures, Func<LinearWeights> weights, Func<LinearWeights, LinearOperator> build)
    {
        LinearOperator op;
        if (_entries is not null && _map is not null && _entries.TryGetValue(key, out var e) && e.Out == outFeatures && e.In == inFeatures)
        {
            if (e.Kind == PackedCacheFormat.KindSparse)
            {
                var w = weights();
                op = new SparseLinear(w.Weight.Span, w.Bias.Span, w.Out, w.In);
            }
            else
            {
                var bias = e.BiasLength == 0 ? [] : new ReadOnlySpan<float>(_map.Base + e.BiasOffset, e.BiasLength);
                op = new PackedLinear(PackedMatrix.Wrap((float*)(_map.Base + e.PanelOffset), outFeatures, inFeatures, _map), bias);
            }
            Hits++;
        }
        else
        {
            op = build(weights());
            _missed = true;
            Misses++;
        }
        _built.Add((key, outFeatures, inFeatures, op));
        return op;
    }

    /// <summary>After a load with misses, writes the operators of this load as the new cache file. Never throws.</summary>
    public void SaveIfChanged()
    {
        bool flagNews = _validatedNow && !SourceValidated;
        if (!(_missed || flagNews) || _built.Count == 0 || !BitConverter.IsLittleEndian) return;
        if (_built.Any(b => b.Op is not (PackedLinear or SparseLinear))) return;
        string tmp = $"{_path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(_directory);
            Write(tmp);
            File.Move(tmp, _path, overwrite: true);
            Trim();
        }
        catch (Exception)
        {
            try { File.Delete(tmp); } catch (Exception) { /* best effort */ }
        }
    }

    private void Write(string tmp)
    {
        // Lay out: fixed header, table, then each packed entry's panels and bias at 64-byte boundaries.
        var entries = _built.Select(b => new PackedCacheFormat.Entry(b.Key, b.Out, b.In,
            b.Op is SparseLinear ? PackedCacheFormat.KindSparse : PackedCacheFormat.KindPacked, 0, 0, 0)).ToList();
        long dataOffset = PackedCacheFormat.Align(PackedCacheFormat.HeaderFixedBytes + PackedCacheFormat.Table(_identity, entries).Length);
        long at = dataOffset;
        for (int i = 0; i < entries.Count; i++)
        {
            if (_built[i].Op is not PackedLinear p) continue;
            long panels = at; at = PackedCacheFormat.Align(at + PackedMatrix.FloatCount(p.Weights.N, p.Weights.K) * sizeof(float));
            int biasLength = p.BiasValues.Length;
            long bias = biasLength == 0 ? 0 : at;
            at = PackedCacheFormat.Align(at + (long)biasLength * sizeof(float));
            entries[i] = entries[i] with { PanelOffset = panels, BiasOffset = bias, BiasLength = biasLength };
        }
        long length = at;
        if (length - dataOffset > int.MaxValue) throw new IOException("packed cache payload too large for one checksum span");
        var table = PackedCacheFormat.Table(_identity, entries);

        using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            Span<byte> head = stackalloc byte[PackedCacheFormat.HeaderFixedBytes];
            head.Clear();
            PackedCacheFormat.Magic.CopyTo(head);
            BitConverter.TryWriteBytes(head[8..], PackedCacheFormat.Version);
            BitConverter.TryWriteBytes(head[12..], PackedMatrix.PanelWidth);
            BitConverter.TryWriteBytes(head[PackedCacheFormat.FlagsOffset..], _validatedNow || SourceValidated ? PackedCacheFormat.FlagSourceValidated : 0);
            BitConverter.TryWriteBytes(head[20..], entries.Count);
            BitConverter.TryWriteBytes(head[24..], dataOffset);
            BitConverter.TryWriteBytes(head[32..], length);
            fs.Write(head);
            fs.Write(table);
            for (int i = 0; i < entries.Count; i++)
            {
                if (_built[i].Op is not PackedLinear p) continue;
                Pad(fs, entries[i].PanelOffset);
                fs.Write(MemoryMarshal.AsBytes(p.Weights.PanelData));
                if (entries[i].BiasLength > 0) { Pad(fs, entries[i].BiasOffset); fs.Write(MemoryMarshal.AsBytes(p.BiasValues)); }
            }
            Pad(fs, length);
            fs.Flush();
        }
        // Checksums over what is now in the file (read back through a mapping, as a later load will read it).
        ulong tableSum, payloadSum;
        using (var map = new MappedFile(new FileStream(tmp, FileMode.Open, FileAccess.Read, FileShare.Read)))
        {
            tableSum = PackedCacheFormat.Checksum(new ReadOnlySpan<byte>(map.Base + PackedCacheFormat.HeaderFixedBytes, (int)(dataOffset - PackedCacheFormat.HeaderFixedBytes)));
            payloadSum = PackedCacheFormat.Checksum(new ReadOnlySpan<byte>(map.Base + dataOffset, (int)(length - dataOffset)));
        }
        using (var fs = new FileStream(tmp, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            fs.Position = 40;
            Span<byte> sums = stackalloc byte[16];
            BitConverter.TryWriteBytes(sums, tableSum);
            BitConverter.TryWriteBytes(sums[8..], payloadSum);
            fs.Write(sums);
        }
    }

    private static void Pad(FileStream fs, long offset)
    {
        Span<byte> zeros = stackalloc byte[PackedCacheFormat.Alignment];
        zeros.Clear();
        while (fs.Position < offset) fs.Write(zeros[..(int)Math.Min(zeros.Length, offset - fs.Position)]);
    }

    /// <summary>Keeps the newest <see cref="MaxFiles"/> cache files within <see cref="MaxBytes"/>; removes stale temp files.</summary>
    private void Trim()
    {
        var dir = new DirectoryInfo(_directory);
        foreach (var t in dir.EnumerateFiles("*" + Extension + ".*.tmp"))
            if (t.LastWriteTimeUtc < DateTime.UtcNow.AddHours(-1)) TryDelete(t.FullName);
        long total = 0; int count = 0;
        foreach (var f in dir.EnumerateFiles("*" + Extension).OrderByDescending(f => f.LastWriteTimeUtc))
        {
            total += f.Length; count++;
            if ((count > MaxFiles || total > MaxBytes) && f.FullName != Path.GetFullPath(_path)) TryDelete(f.FullName);
        }
    }

    private static void TryDelete(string path) { try { File.Delete(path); } catch (Exception) { /* best effort */ } }

    private static void TryTouch(string path) { try { File.SetLastWriteTimeUtc(path, DateTime.UtcNow); } catch (Exception) { /* read-only: fine */ } }

    private static ulong Fnv1a(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) h = (h ^ c) * 1099511628211UL;
        return h;
    }

    /// <summary>Unmaps the file; operators taken from it must no longer run.</summary>
    public void Dispose() => _map?.Dispose();
}
