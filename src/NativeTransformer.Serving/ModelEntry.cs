namespace NativeTransformer.Serving;

/// <summary>
/// A loaded model shared by the batches using it. Reference counted: the entry holds one reference while
/// the model is current; every batch takes one more. Unloading drops the entry's reference, so the model
/// is disposed only after the last running batch is done with it.
/// </summary>
internal sealed class LoadedModel(TransformerModel model)
{
    private int _refs = 1;

    public TransformerModel Model { get; } = model;

    /// <summary>References beyond the owner's: batches using the model now.</summary>
    public int Users => Math.Max(0, Volatile.Read(ref _refs) - 1);

    public bool TryAddRef()
    {
        while (true)
        {
            int r = Volatile.Read(ref _refs);
            if (r == 0) return false;   // already disposed (or disposing)
            if (Interlocked.CompareExchange(ref _refs, r + 1, r) == r) return true;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) Model.Dispose();
    }
}

/// <summary>A reference to a loaded model for the length of one batch.</summary>
internal readonly struct ModelLease(LoadedModel loaded, ModelEntry entry) : IDisposable
{
    public TransformerModel Model => loaded.Model;

    public void Dispose()
    {
        entry.Touch();
        loaded.Release();
    }
}

/// <summary>One served model name: its folder, and the model when loaded. Loads on first use.</summary>
internal sealed class ModelEntry(string name, string directory, LoadOptions options, ServeMetrics metrics)
{
    private readonly SemaphoreSlim _loadLock = new(1, 1);
    private LoadedModel? _current;
    private long _lastUsed = Environment.TickCount64;

    public string Name { get; } = name;
    public string Directory { get; } = directory;
    public bool IsLoaded => Volatile.Read(ref _current) != null;
    /// <summary>Milliseconds since the last request started or finished on this model.</summary>
    public long IdleMs => Environment.TickCount64 - Interlocked.Read(ref _lastUsed);
    /// <summary>Batches using the model right now.</summary>
    public int Users => Volatile.Read(ref _current)?.Users ?? 0;

    public void Touch() => Interlocked.Exchange(ref _lastUsed, Environment.TickCount64);

    /// <summary>The model for one batch, loading it first when needed.</summary>
    public async Task<ModelLease> AcquireAsync(CancellationToken ct)
    {
        Touch();
        var m = Volatile.Read(ref _current);
        if (m != null && m.TryAddRef()) return new ModelLease(m, this);
        await _loadLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            m = _current;
            if (m == null || !m.TryAddRef())
            {
                m = await Task.Run(Load, CancellationToken.None).ConfigureAwait(false);
                m.TryAddRef();
                Volatile.Write(ref _current, m);
            }
            return new ModelLease(m, this);
        }
        finally { _loadLock.Release(); }
    }

    /// <summary>The text to prepend to each input of an embeddings request: its prompt_name's or prompt's text, else the
    /// load's default (--prompt-name / --prompt, else the folder's default_prompt_name). Loads the model when it is not loaded.</summary>
    public async Task<string> PromptPrefixAsync(string? promptName, string? prompt, CancellationToken ct)
    {
        using var lease = await AcquireAsync(ct).ConfigureAwait(false);
        try { return lease.Model.PromptPrefix(promptName, prompt); }
        catch (InputException e) { throw ApiException.BadRequest($"model '{Name}': {e.Message}"); }
    }

    /// <summary>Loads the model now (POST /v1/models/{name}/load).</summary>
    public async Task LoadAsync(CancellationToken ct)
    {
        using var lease = await AcquireAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Drops the model; batches still running finish with it first. Returns false when it was not loaded.</summary>
    public async Task<bool> UnloadAsync(CancellationToken ct)
    {
        await _loadLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var m = _current;
            if (m == null) return false;
            Volatile.Write(ref _current, null);
            m.Release();
            metrics.Unloaded();
            return true;
        }
        finally { _loadLock.Release(); }
    }

    private LoadedModel Load()
    {
        try
        {
            var model = TransformerModel.Load(Directory, options);
            metrics.Loaded();
            return new LoadedModel(model);
        }
        catch (NativeTransformerException e)
        {
            throw new ApiException(500, "model_load_error", $"model '{Name}' could not be loaded from {Directory}: {e.Message}");
        }
    }
}
