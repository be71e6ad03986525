namespace NativeTransformer.Hub;

/// <summary>Resolving a model through a Hugging Face-compatible hub failed: unknown repository or revision,
/// a needed file missing, network failure, a download that does not match its size or hash, or offline mode
/// with nothing cached. The message names the repository (and the file when there is one).</summary>
public sealed class HubException : NativeTransformerException
{
    public HubException(string message) : base(message) { }
    public HubException(string message, Exception inner) : base(message, inner) { }
}
