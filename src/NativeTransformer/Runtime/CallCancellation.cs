namespace NativeTransformer;

/// <summary>
/// The cancellation token of the synchronous call running on this thread. The async API
/// (<see cref="TransformerModel.EmbedAsync(IReadOnlyList{TextInput}, string?, string?, CancellationToken)"/> and friends) enters
/// a scope around the synchronous call, and the one batch loop every task goes through (RunRows) checks it before each batch.
/// Thread-static rather than a parameter on every task method: a call runs its batches on the calling thread from start
/// to end (workers only split kernels), so the token needs no threading through Embed, Classify, TagEntities, Answer, ….
/// </summary>
internal static class CallCancellation
{
    [ThreadStatic] private static CancellationToken t_token;
    [ThreadStatic] private static Action? t_beforeBatch;

    /// <summary>Makes <paramref name="token"/> the current call's token until the returned scope is disposed.</summary>
    public static Scope Enter(CancellationToken token)
    {
        var previous = t_token;
        t_token = token;
        return new Scope(previous);
    }

    /// <summary>Called by the batch loop before each batch: throws <see cref="OperationCanceledException"/> once the
    /// current call's token is cancelled. Nothing has been rented yet, so the model stays usable.</summary>
    public static void BeforeBatch()
    {
        t_beforeBatch?.Invoke();
        t_token.ThrowIfCancellationRequested();
    }

    /// <summary>Tests: runs <paramref name="hook"/> before each batch of calls on this thread (e.g. cancel after the first).</summary>
    internal static Scope Hook(Action? hook)
    {
        var previous = t_beforeBatch;
        t_beforeBatch = hook;
        return new Scope(t_token, () => t_beforeBatch = previous);
    }

    public readonly struct Scope(CancellationToken previous, Action? restore = null) : IDisposable
    {
        public void Dispose()
        {
            if (restore is null) t_token = previous;
            else restore();
        }
    }
}
